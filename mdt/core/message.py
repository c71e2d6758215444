"""Encoding a valid form as the switch's fixed-format text and as the gateway's JSON message.
No Qt.

Text: ``MKE.ORI.DEST[.CONTROL].TXT`` on the first line, then the fields in form order, each
``TAG/value`` ended by a period except the last (the message does not end with a period); blank
fields are left out, prefix included. Several destinations are joined with commas
(``DQ.MD1012600.VA,PA.TXT``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mdt.core.codes import CodeTables
from mdt.core.forms import FieldError, FormDef, FormInvalid, normalize, validate_form


@dataclass(frozen=True)
class OperatorProfile:
    """What the terminal knows of its operator, for defaults (ORI, ATN, PHN)."""

    user_id: str
    name: str
    ori: str
    unit: str = ""
    atn: str = ""
    phn: str = ""

    def defaults(self) -> dict[str, str]:
        return {"ori": self.ori, "atn": self.atn, "phn": self.phn, "name": self.name}


def encode_text(mke: str, ori: str, dest: list[str], fields: dict[str, str],
                control: str | None = None) -> str:
    header = ".".join([mke, ori, ",".join(dest), *([control] if control else []), "TXT"])
    body = ".".join(f"{tag}/{value}" for tag, value in fields.items() if value)
    return f"{header}\n{body}" if body else header


def _destination(form: FormDef, dest: list[str] | None) -> tuple[list[str], list[FieldError]]:
    spec = form.destination or {}
    kind = spec.get("kind", "fixed")
    if kind == "fixed":
        return [str(spec.get("default") or "NCIC")], []
    chosen = [d.strip().upper() for d in (dest or []) if d.strip()]
    if not chosen and spec.get("default"):
        chosen = [str(spec["default"])]
    errors: list[FieldError] = []
    if not chosen:
        errors.append(FieldError("DEST", f"Enter a destination: {spec.get('help', '')}".strip()))
    limit = int(spec.get("max") or (1 if kind == "state" else 10))
    if len(chosen) > limit:
        errors.append(FieldError("DEST", f"At most {limit} destination(s) for {form.mke}."))
    tables = CodeTables.default()
    for d in chosen:
        if kind in ("state", "states") and d not in tables["LIS"] and d != "NL":
            errors.append(FieldError("DEST", f"Destination '{d}' is not a state code."))
        if kind == "ori" and (len(d) != 9 or not d.isalnum()):
            errors.append(FieldError("DEST", f"Destination '{d}' is not a 9-character ORI."))
    return chosen, errors


def build_message(form: FormDef, values: dict[str, str], operator: OperatorProfile, *,
                  dest: list[str] | None = None, purpose: str | None = None,
                  msg_id: str | None = None, now: datetime | None = None,
                  tables: CodeTables | None = None) -> dict[str, Any]:
    """The gateway message for a form, or :class:`FormInvalid` naming every problem."""
    tables = tables or CodeTables.default()
    filled = dict(values)
    defaults = operator.defaults()
    for definition in form.fields:
        if definition.default_from and not filled.get(definition.tag):
            value = defaults.get(definition.default_from, "")
            if value:
                filled[definition.tag] = value
        if definition.default and not filled.get(definition.tag):
            filled[definition.tag] = definition.default
    errors = [e for e in validate_form(form, filled, tables) if e.severity == "error"]
    destination, dest_errors = _destination(form, dest)
    errors += dest_errors
    codes = [str(c["value"]) for c in form.purpose_codes]
    if codes:
        purpose = (purpose or codes[0]).upper()
        if purpose not in codes:
            errors.append(FieldError("PUR", f"Purpose must be one of {', '.join(codes)}."))
    else:
        purpose = None
    if errors:
        raise FormInvalid(errors)
    fields = normalize(form, filled)
    created = (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    message: dict[str, Any] = {
        "id": msg_id or str(uuid.uuid4()), "mke": form.mke, "dest": destination,
        "fields": fields, "text": encode_text(form.mke, operator.ori, destination, fields),
        "created_at": created,
    }
    if purpose:
        message["purpose"] = purpose
    return message


_FIELD = re.compile(r"(?:^|\.)([A-Z][A-Z0-9]{1,2})/")


def decode_text(text: str) -> tuple[str, str, list[str], dict[str, str]]:
    """The reverse of :func:`encode_text`: (mke, ori, destinations, fields).

    For integrators checking what a terminal sends; raises ``ValueError`` on a header it cannot
    read."""
    header, _, body = text.strip().partition("\n")
    parts = header.strip().split(".")
    if len(parts) < 4 or parts[-1] != "TXT":
        raise ValueError("The first line must be MKE.ORI.DEST[.CONTROL].TXT")
    mke, ori, dest = parts[0], parts[1], parts[2].split(",")
    body = body.strip()
    matches = list(_FIELD.finditer(body))
    fields: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        fields[match.group(1)] = body[match.end():end]
    return mke, ori, dest, fields
