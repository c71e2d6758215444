"""Encoding a valid form as the switch's fixed-format text and as the gateway's JSON message
(``docs/protocol.md``). No Qt.

Text: ``MKE.ORI.DEST[.CONTROL].TXT`` on the first line, then the fields in form order, each
``TAG/value`` ended by a period except the last (the message does not end with a period); blank
fields are left out, prefix included. The header has one destination slot, so several
destinations are joined with commas inside it (``DQ.MD1012600.VA,PA.TXT``): joining them with
periods would make them indistinguishable from the optional control field. A form with purpose
codes (IAQ, QH, QR) carries its purpose as the first field, ``PUR/C``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from mdt.core.clock import format_time
from mdt.core.codes import CodeTables
from mdt.core.forms import FieldError, FormDef, FormInvalid, normalize, validate_form

__all__ = ["FormInvalid", "OperatorProfile", "build_message", "decode_text", "encode_text",
           "resolve_destination"]

_HEADER_PART = re.compile(r"[A-Z0-9]{1,10}")
_ORI = re.compile(r"[A-Z0-9]{9}")


@dataclass(frozen=True)
class OperatorProfile:
    """What the terminal knows of its operator, for defaults (ORI, ATN, PHN)."""

    user_id: str
    name: str
    ori: str
    unit: str = ""
    atn: str = ""
    phn: str = ""

    @property
    def state(self) -> str:
        """The home state: the first two letters of the ORI."""
        return self.ori[:2].upper()

    def defaults(self) -> dict[str, str]:
        """Values for ``default_from`` keys. ATN (the requester) falls back to the name."""
        return {"ori": self.ori, "atn": self.atn or self.name, "phn": self.phn,
                "name": self.name, "unit": self.unit, "state": self.state}


def encode_text(mke: str, ori: str, dest: list[str], fields: Mapping[str, str],
                control: str | None = None, *, untagged: Collection[str] = ()) -> str:
    """The legacy fixed-format text: ``MKE.ORI.DEST[.CONTROL].TXT`` then ``TAG/value`` fields
    joined by periods, blank ones left out, no final period.

    ``encode_text("RQ", "MD1012600", ["VA"], {"LIC": "ABC1234", "LIT": "PC"})`` is
    ``"RQ.MD1012600.VA.TXT\\nLIC/ABC1234.LIT/PC"``. Tags in ``untagged`` are written as the
    bare value (an administrative message's free text). Raises ``ValueError`` for a header part that
    is not 1-10 letters and digits (a period in it would shift the header)."""
    parts = [mke, ori, *dest, *([control] if control else [])]
    bad = [p for p in parts if not _HEADER_PART.fullmatch(p)]
    if bad or not dest:
        raise ValueError(f"Header parts must be 1-10 letters and digits: {bad or 'no dest'}.")
    header = ".".join([mke, ori, ",".join(dest), *([control] if control else []), "TXT"])
    body = ".".join(value if tag in untagged else f"{tag}/{value}"
                    for tag, value in fields.items() if value)
    return f"{header}\n{body}" if body else header


def resolve_destination(form: FormDef, dest: list[str] | str | None, tables: CodeTables
                        ) -> tuple[list[str], list[FieldError]]:
    """The destinations a message goes to (the form's default when none given) and the
    problems with them (``field`` ``DEST``). ``dest`` may be a list or text separated by commas
    or spaces."""
    spec = form.destination
    if spec["kind"] == "fixed":
        return [spec["default"]], []
    if isinstance(dest, str):
        dest = re.split(r"[,\s]+", dest)
    chosen = [d.strip().upper() for d in (dest or []) if d and d.strip()]
    if not chosen and spec["default"]:
        chosen = [d for d in re.split(r"[,\s]+", spec["default"]) if d]
    seen: set[str] = set()
    chosen = [d for d in chosen if not (d in seen or seen.add(d))]  # type: ignore[func-returns-value]
    errors: list[FieldError] = []
    kind, most = spec["kind"], spec["max"]
    what = {"state": "a state code", "states": "state codes", "ori": "ORIs"}[kind]
    if not chosen:
        if spec["required"]:
            extra = f" ({spec['help']})" if spec["help"] else ""
            errors.append(FieldError("DEST", f"Enter the destination: {what}{extra}."))
        return chosen, errors
    if len(chosen) > most:
        errors.append(FieldError("DEST", f"{form.mke} goes to at most {most} "
                                         f"destination{'s' if most > 1 else ''}, not "
                                         f"{len(chosen)}."))
    special = {s.value for s in spec["special"]}
    for d in chosen:
        if d in special:
            if len(chosen) > 1:
                errors.append(FieldError("DEST", f"Destination {d} stands alone: it cannot be "
                                                 "combined with others."))
        elif kind in ("state", "states") and d not in tables["LIS"]:
            errors.append(FieldError("DEST", f"Destination '{d}' is not an NCIC state code."))
        elif kind == "ori" and (not _ORI.fullmatch(d) or d[:2] not in tables["LIS"]):
            errors.append(FieldError("DEST", f"Destination '{d}' is not a 9-character ORI "
                                             "starting with a state code."))
    return chosen, errors


def _timestamp(now: datetime | None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return format_time(moment, "milliseconds")


def build_message(form: FormDef, values: Mapping[str, str], operator: OperatorProfile,
                  dest: list[str] | str | None = None, purpose: str | None = None,
                  msg_id: str | None = None, now: datetime | None = None, *,
                  tables: CodeTables | None = None, control: str | None = None
                  ) -> dict[str, Any]:
    """The gateway message (``POST /v1/messages``) for a form, or :class:`FormInvalid` naming
    every problem (field rules, alternatives, destination, purpose).

    Blank fields with a ``default_from`` take the operator's value (ATN, PHN ...), then the
    field's ``default``. Warnings (a VIN check digit) do not block."""
    tables = tables or CodeTables.default()
    filled = {str(k).strip().upper(): v for k, v in values.items()}
    for tag, value in form.initial_values(operator.defaults()).items():
        if not str(filled.get(tag) or "").strip():
            filled[tag] = value
    today = (now.astimezone(UTC).date() if now else date.today())
    errors = [e for e in validate_form(form, filled, tables, today=today)
              if e.severity == "error"]
    destination, dest_errors = resolve_destination(form, dest, tables)
    errors += dest_errors
    codes = [c.value for c in form.purpose_codes]
    if codes:
        purpose = (purpose or codes[0]).strip().upper()
        if purpose not in codes:
            errors.append(FieldError("PUR", f"Purpose (PUR) must be one of {', '.join(codes)}."))
    else:
        purpose = None
    if not _ORI.fullmatch(operator.ori.upper()):
        errors.append(FieldError(None, f"The terminal's ORI '{operator.ori}' is not 9 letters "
                                       "and digits."))
    if control is not None and not _HEADER_PART.fullmatch(control):
        errors.append(FieldError(None, "The control field must be 1-10 letters and digits."))
    if errors:
        raise FormInvalid(errors)
    fields = normalize(form, filled)
    text_fields = {"PUR": purpose, **fields} if purpose else fields
    message: dict[str, Any] = {
        "id": msg_id or str(uuid.uuid4()), "mke": form.mke, "dest": destination,
        "fields": fields,
        "text": encode_text(form.mke, operator.ori.upper(), destination, text_fields, control,
                            untagged={f.tag for f in form.fields if f.untagged}),
        "created_at": _timestamp(now),
    }
    if purpose:
        message["purpose"] = purpose
    return message


_FIELD = re.compile(r"(?:^|\.)([A-Z][A-Z0-9]{1,3})/")


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
