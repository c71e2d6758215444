"""Query forms as data: one JSON definition per message key in ``resources/forms``. No Qt.

A definition lists its fields in tab order (tag, label, kind, length, required, code table,
choices, defaults from the operator's profile, help), the alternative field sets of which one must
be complete (QV: LIC + LIS, or VIN), the destination and the purpose codes. One generic widget
renders any of them; the rules in :mod:`mdt.core.rules` check them. See ``docs/forms.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from mdt.core.codes import CodeTables
from mdt.core.rules import RULES, FieldError, rule_date
from mdt.paths import resources_dir

__all__ = ["FieldDef", "FieldError", "FormDef", "FormDefinitionError", "FormInvalid", "FormSet",
           "all_forms", "load_form", "normalize", "validate_field", "validate_form"]

KEYS = ("QW", "QV", "DQ", "RQ", "IAQ", "QH", "QR", "QG", "YQ", "YR", "AM")


class FormDefinitionError(ValueError):
    """A form definition (shipped or served by a gateway) is not usable; says what is wrong."""


class FormInvalid(ValueError):
    """The form would be rejected by the switch; ``errors`` name each field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.message for e in errors))


@dataclass(frozen=True)
class FieldDef:
    tag: str
    label: str
    kind: str
    required: bool = False
    max_length: int | None = None
    code_table: str | None = None
    choices: tuple[dict[str, str], ...] = ()
    default_from: str | None = None
    default: str | None = None
    help: str = ""
    placeholder: str = ""


@dataclass(frozen=True)
class FormDef:
    mke: str
    title: str
    description: str
    fields: tuple[FieldDef, ...]
    alternatives: tuple[tuple[tuple[str, ...], ...], ...] = ()
    destination: dict[str, Any] = field(default_factory=dict)
    purpose_codes: tuple[dict[str, str], ...] = ()
    function_key: str | None = None

    def field(self, tag: str) -> FieldDef:
        for f in self.fields:
            if f.tag == tag:
                return f
        raise KeyError(tag)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FormDef:
        try:
            mke = str(data["mke"]).upper()
            fields = []
            for raw in data["fields"]:
                kind = str(raw["kind"])
                if kind not in RULES:
                    raise FormDefinitionError(f"form {mke}: field {raw.get('tag')} has unknown "
                                              f"kind {kind!r}")
                if kind == "code" and not raw.get("code_table"):
                    raise FormDefinitionError(f"form {mke}: code field {raw['tag']} names no "
                                              "code table")
                fields.append(FieldDef(
                    tag=str(raw["tag"]).upper(), label=str(raw["label"]), kind=kind,
                    required=bool(raw.get("required", False)),
                    max_length=int(raw["max_length"]) if raw.get("max_length") else None,
                    code_table=raw.get("code_table"),
                    choices=tuple(raw.get("choices") or ()),
                    default_from=raw.get("default_from"), default=raw.get("default"),
                    help=str(raw.get("help", "")), placeholder=str(raw.get("placeholder", ""))))
            tags = {f.tag for f in fields}
            alternatives = tuple(tuple(tuple(str(t).upper() for t in option) for option in group)
                                 for group in data.get("alternatives") or ())
            for group in alternatives:
                for option in group:
                    missing = set(option) - tags
                    if missing:
                        raise FormDefinitionError(
                            f"form {mke}: alternative names unknown fields {sorted(missing)}")
            return cls(mke=mke, title=str(data["title"]),
                       description=str(data.get("description", "")), fields=tuple(fields),
                       alternatives=alternatives, destination=dict(data.get("destination") or {}),
                       purpose_codes=tuple(data.get("purpose_codes") or ()),
                       function_key=data.get("function_key"))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, FormDefinitionError):
                raise
            raise FormDefinitionError(f"form definition is incomplete or malformed: {exc}") from exc


@cache
def load_form(mke: str) -> FormDef:
    path = resources_dir() / "forms" / f"{mke.upper()}.json"
    if not path.exists():
        raise FormDefinitionError(f"There is no form for message key '{mke}'.")
    return FormDef.from_dict(json.loads(path.read_text(encoding="utf-8")))


def all_forms() -> list[FormDef]:
    return [load_form(mke) for mke in KEYS]


class FormSet:
    """The forms a terminal uses: the shipped ones, overridden by newer definitions a gateway
    serves (``GET /v1/forms``). A served definition that does not validate is refused as a whole:
    the terminal keeps working on what it had."""

    def __init__(self, forms: dict[str, FormDef], source: str = "shipped") -> None:
        self.forms = forms
        self.source = source

    @classmethod
    def shipped(cls) -> FormSet:
        return cls({f.mke: f for f in all_forms()}, "shipped")

    @classmethod
    def with_served(cls, payload: Any, base: FormSet | None = None) -> FormSet:
        """Shipped forms overridden by a gateway's ``{"forms": [...]}``; raises
        :class:`FormDefinitionError` naming the first bad definition."""
        base = base or cls.shipped()
        if not isinstance(payload, dict) or not isinstance(payload.get("forms"), list):
            raise FormDefinitionError("The gateway's forms are not a list of definitions.")
        served = {}
        for raw in payload["forms"]:
            if not isinstance(raw, dict):
                raise FormDefinitionError("A served form definition is not an object.")
            form = FormDef.from_dict(raw)
            served[form.mke] = form
        return cls({**base.forms, **served}, "gateway")

    def get(self, mke: str) -> FormDef:
        try:
            return self.forms[mke.upper()]
        except KeyError:
            raise FormDefinitionError(f"There is no form for message key '{mke}'.") from None

    def all(self) -> list[FormDef]:
        ordered = [self.forms[k] for k in KEYS if k in self.forms]
        return ordered + [f for k, f in sorted(self.forms.items()) if k not in KEYS]


def normalize(form: FormDef, values: dict[str, str]) -> dict[str, str]:
    """Upper-cased, stripped, blank fields left out, in the form's order."""
    cleaned = {k.upper(): " ".join(str(v).split()).upper() for k, v in values.items()}
    ordered = {f.tag: cleaned[f.tag] for f in form.fields if cleaned.get(f.tag)}
    return ordered


def validate_field(form: FormDef, tag: str, value: str, tables: CodeTables) -> list[FieldError]:
    definition = form.field(tag)
    value = " ".join(value.split()).upper()
    if not value:
        return []
    if definition.max_length and len(value) > definition.max_length:
        return [FieldError(tag, f"{definition.label} ({tag}) is longer than "
                                f"{definition.max_length} characters.")]
    if definition.kind == "choice" and definition.choices:
        allowed = [c["value"] for c in definition.choices]
        if value not in allowed:
            return [FieldError(tag, f"{definition.label} ({tag}) must be one of "
                                    f"{', '.join(allowed)}.")]
        return []
    if definition.kind == "date" and form.mke == "IAQ":
        return rule_date(tag, definition.label, value, tables, ("%Y%m%d", "%m%d%y"))
    return RULES[definition.kind](tag, definition.label, value, tables)


def _label(form: FormDef, tag: str) -> str:
    return f"{form.field(tag).label.lower()} ({tag})"


def validate_form(form: FormDef, values: dict[str, str], tables: CodeTables) -> list[FieldError]:
    known = {f.tag for f in form.fields}
    errors = [FieldError(tag, f"{tag} is not a field of the {form.mke} form.")
              for tag in values if tag.upper() not in known]
    clean = normalize(form, {k: v for k, v in values.items() if k.upper() in known})
    for definition in form.fields:
        if definition.required and not clean.get(definition.tag):
            errors.append(FieldError(definition.tag, f"{definition.label} ({definition.tag}) "
                                                     "is required."))
    for group in form.alternatives:
        if not any(all(clean.get(t) for t in option) for option in group):
            options = [" and ".join(_label(form, t) for t in option) for option in group]
            text = "Enter " + (", or ".join(options)) + "."
            errors.append(FieldError(None, text[0].upper() + text[1:]))
    for tag, value in clean.items():
        errors.extend(validate_field(form, tag, value, tables))
    return errors
