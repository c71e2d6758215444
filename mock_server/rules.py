"""What each message key requires, from the form definitions the client also uses
(``resources/forms``): the switch refuses what the forms would not let through.

The definitions are read by the client's own form reader (:meth:`mdt.core.forms.FormDef.from_dict`,
which validates each one), so the gateway and the terminal never read the same JSON two ways.
The gateway uses from it only the reader, its error and the definition's public fields.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from mdt.core.forms import FormDef, FormDefinitionError
from mock_server.config import default_forms_dir
from mock_server.synthetic import code_table

log = logging.getLogger("mdt-gateway")


class Rejected(Exception):
    """The switch refuses a message: ``reason`` as the switch prints it, ``field`` the tag."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.field = reason, field


def read_forms(folder: Path) -> dict[str, FormDef]:
    """The form definitions in a folder, by message key; one that cannot be read or does not
    validate is logged and left out."""
    forms: dict[str, FormDef] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            form = FormDef.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, FormDefinitionError) as exc:
            log.warning("form definition %s unreadable, not used: %s", path.name, exc)
            continue
        forms[form.mke] = form
    return forms


class Rules:
    """Required fields, alternatives, purpose codes and destinations per key."""

    def __init__(self, folder: Path | None = None) -> None:
        self.forms = read_forms(folder or default_forms_dir())

    def check(self, mke: str, fields: dict[str, str], dest: list[str], purpose: str) -> None:
        """Nothing when the switch takes the message; :class:`Rejected` saying why not."""
        form = self.forms.get(mke)
        if form is None:
            raise Rejected(f"UNKNOWN MESSAGE KEY {mke}", "mke")
        self._check_fields(form, fields)
        alternatives = list(form.alternatives)
        when = form.alternatives_when
        if when is not None:
            alternatives += when.cases.get(fields.get(when.field, ""), ())
        for alternative in alternatives:
            if not any(all(fields.get(t) for t in group) for group in alternative):
                wanted = ", OR ".join(" AND ".join(group) for group in alternative)
                raise Rejected(f"{mke} NEEDS {wanted}", alternative[0][0])
        codes = [c.value for c in form.purpose_codes]
        if codes and purpose not in codes:
            raise Rejected(f"{mke} NEEDS A PURPOSE CODE ({'/'.join(codes)})", "PUR")
        self._check_destination(form, dest)

    @staticmethod
    def _check_fields(form: FormDef, fields: dict[str, str]) -> None:
        for definition in form.fields:
            tag = definition.tag
            value = fields.get(tag, "")
            if definition.required and not value:
                raise Rejected(f"{form.mke} NEEDS {tag}", tag)
            choices = [c.value for c in definition.choices]
            if choices and value and value not in choices:
                raise Rejected(f"{tag} MUST BE {' OR '.join(choices)}", tag)
            if definition.pattern and value and not re.fullmatch(definition.pattern, value):
                raise Rejected(f"{tag}/{value} IS NOT VALID", tag)

    @staticmethod
    def _check_destination(form: FormDef, dest: list[str]) -> None:
        mke, destination = form.mke, form.destination
        kind = destination["kind"]
        if kind == "fixed":  # the switch knows where it goes
            return
        if destination["required"] and not dest:
            raise Rejected(f"{mke} NEEDS A DESTINATION", "DEST")
        if len(dest) > destination["max"]:
            raise Rejected(f"{mke} TAKES AT MOST {destination['max']} DESTINATIONS", "DEST")
        if kind == "ori":
            for ori in dest:
                if len(ori) != 9 or not ori.isalnum():
                    raise Rejected(f"DESTINATION {ori} IS NOT AN ORI", "DEST")
        else:  # state, states
            states = code_table("LIS")
            for state in dest:
                if state not in states and state != "NL":
                    raise Rejected(f"DESTINATION {state} IS NOT A STATE CODE", "DEST")

    def respond_seconds(self, mke: str, fields: dict[str, str]) -> float | None:
        """How long the answer may take, from the form's ``confirm_by`` (YQ: by PRI)."""
        form = self.forms.get(mke)
        rule = form.confirm_by if form is not None else None
        if rule is None:
            return None
        minutes = rule.minutes.get(fields.get(rule.field, ""))
        return float(minutes) * 60 if minutes is not None else None
