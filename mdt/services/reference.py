"""The forms and NCIC code tables in use: shipped, or newer ones the gateway served (fetched by
ETag and kept in the encrypted cache). No Qt."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from mdt.services.network import Network
from mdt.services.session import Session

if TYPE_CHECKING:
    from mdt.core.codes import CodeTables
    from mdt.core.forms import FormSet
    from mdt.store.cache import Cache

log = logging.getLogger(__name__)


class ReferenceData:
    def __init__(self, session: Session, network: Network) -> None:
        self.session = session
        self.network = network
        self._forms: FormSet | None = None
        self._code_tables: CodeTables | None = None

    @property
    def forms(self) -> FormSet:
        if self._forms is None:
            from mdt.core.forms import FormSet

            self._forms = FormSet.shipped()
        return self._forms

    @property
    def code_tables(self) -> CodeTables:
        if self._code_tables is None:
            from mdt.core.codes import CodeTables

            self._code_tables = CodeTables.default()
        return self._code_tables

    def load_cached(self) -> None:
        """Use the forms and code tables the gateway served earlier, kept in the open cache."""
        from mdt.core.forms import FormDefinitionError, FormSet

        _, writer = self.session.require()
        text = writer.cache.get_meta("forms")
        if text:
            try:
                self._forms = FormSet.with_served(json.loads(text))
            except (FormDefinitionError, ValueError):
                log.warning("cached gateway forms are unusable; using the shipped ones")
        text = writer.cache.get_meta("code_tables")
        if text:
            try:
                served = json.loads(text)["tables"]
                self._code_tables = self.code_tables.with_served(served)
            except (ValueError, KeyError, TypeError):
                log.warning("cached code tables are unusable; using the shipped ones")

    def refresh_forms(self) -> str:
        """Fetch newer form definitions from the gateway (ETag), validate, keep them in the cache.

        Returns "updated", "unchanged" or "refused" (a definition did not validate)."""
        from mdt.core.forms import FormDefinitionError, FormSet

        _, writer = self.session.require()
        etag = writer.cache.get_meta("forms_etag")
        new_etag, payload = self.network.run(self.network.client.forms(etag), timeout=30)
        if payload is None:
            return "unchanged"
        try:
            forms = FormSet.with_served(payload)
        except FormDefinitionError as exc:
            log.warning("the gateway served unusable forms: %s", exc)
            return "refused"

        def keep(cache: Cache) -> None:
            cache.set_meta("forms", json.dumps(payload))
            cache.set_meta("forms_etag", new_etag or "")

        writer.call(keep)
        self._forms = forms
        return "updated"

    def refresh_codes(self) -> list[str]:
        """Fetch the code tables the forms use from the gateway (ETag each), keep them in the
        cache, and use them. Returns the names of the tables that changed."""
        from mdt.core.codes import CodeTables
        from mdt.net.gateway import GatewayRefused

        _, writer = self.session.require()
        stored = json.loads(writer.cache.get_meta("code_tables") or "{}")
        tables: dict[str, dict[str, str]] = stored.get("tables", {})
        etags: dict[str, str] = stored.get("etags", {})
        names = sorted({f.code_table for form in self.forms.all() for f in form.fields
                        if f.code_table})
        changed = []
        client = self.network.client
        for name in names:
            try:
                etag, codes = self.network.run(client.code_table(name, etags.get(name)), 30)
            except GatewayRefused:
                continue  # this gateway does not serve that table: the shipped one stands
            if codes is not None:
                tables[name], etags[name] = codes, etag or ""
                changed.append(name)
        if changed:
            body = json.dumps({"tables": tables, "etags": etags})
            writer.cache.set_meta("code_tables", body)
            self._code_tables = CodeTables.default().with_served(tables)
        return changed
