"""Query forms as data: one JSON definition per message key in ``resources/forms``. No Qt.

A definition lists its fields in tab order (tag, label, kind, length, required, code table,
choices, defaults from the operator's profile, help), the alternative field sets of which one must
be complete (QV: LIC + LIS, or VIN), the destination, the purpose codes and the function key. One
generic widget renders any of them; :mod:`mdt.core.rules` checks the values. A gateway may serve
newer definitions: :meth:`FormDef.from_dict` validates one and says exactly what is wrong with it.
The schema is documented in ``docs/forms.md``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypedDict

from mdt.core.rules import (
    DATE_FORMATS,
    KINDS,
    FieldError,
    normalize,
    validate_field,
    validate_form,
)
from mdt.paths import resources_dir

__all__ = [
    "DEFAULT_FROM",
    "DESTINATION_KINDS",
    "KEYS",
    "KINDS",
    "SCHEMA_VERSION",
    "AlternativesWhen",
    "Choice",
    "ConfirmBy",
    "Destination",
    "FieldDef",
    "FieldError",
    "FormDef",
    "FormDefinitionError",
    "FormInvalid",
    "FormSet",
    "all_forms",
    "destination",
    "load_form",
    "normalize",
    "validate_field",
    "validate_form",
]

SCHEMA_VERSION = 1
KEYS = ("QW", "QV", "DQ", "RQ", "IAQ", "QH", "QR", "QG", "YQ", "YR", "AM")
DESTINATION_KINDS = ("fixed", "state", "states", "ori")
# Operator-profile keys a field may take its default from (see OperatorProfile.defaults()).
DEFAULT_FROM = ("ori", "atn", "phn", "name", "unit", "state")
_TAG = re.compile(r"[A-Z][A-Z0-9]{1,3}")
_MKE = re.compile(r"[A-Z][A-Z0-9]{1,3}")
_FUNCTION_KEY = re.compile(r"(?:(?:Ctrl|Shift|Alt)\+)*F(?:[1-9]|1[0-2])")


class FormDefinitionError(ValueError):
    """A form definition (shipped or served by a gateway) is not usable; says what is wrong."""


class FormInvalid(ValueError):
    """The form would be rejected by the switch; ``errors`` name each field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__(" ".join(e.message for e in errors))


class _AsMapping(Mapping[str, Any]):
    """Read-only dict access to a frozen dataclass (``choice["value"]``, ``dest.get("kind")``),
    so the parts of a definition read the same as the JSON they came from."""

    def __getitem__(self, key: str) -> Any:
        if key in self._names():
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self))  # type: ignore[arg-type]


class Choice(dict[str, str]):
    """One value a choice field (or the purpose) may take: ``{"value": "C", "label": "..."}``.

    A read-only dict, so it reads (and serialises, and compares) exactly like the JSON it came
    from, with ``.value`` and ``.label`` besides."""

    __slots__ = ()

    def __init__(self, value: str, label: str) -> None:
        super().__init__(value=value, label=label)

    @property
    def value(self) -> str:
        return self["value"]

    @property
    def label(self) -> str:
        return self["label"]

    def to_dict(self) -> dict[str, str]:
        return {"value": self.value, "label": self.label}

    def __hash__(self) -> int:  # type: ignore[override]
        return hash((self.value, self.label))

    def __repr__(self) -> str:
        return f"Choice({self.value!r}, {self.label!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Choice, (self.value, self.label))

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("A form definition's choice is read-only.")

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only


class Destination(TypedDict):
    """Where the message goes (a plain dict, as in the JSON).

    ``kind``: ``fixed`` (always ``default``: NCIC, AX ...), ``state`` (one state code), ``states``
    (up to ``max`` state codes; ``special`` values such as NL also allowed, each alone), ``ori``
    (up to ``max`` 9-character ORIs)."""

    kind: str
    default: str
    max: int
    required: bool
    label: str
    help: str
    special: tuple[Choice, ...]


def destination(kind: str = "fixed", default: str = "", max: int = 1, required: bool = True,
                label: str = "Destination", help: str = "",
                special: tuple[Choice, ...] = ()) -> Destination:
    """A :class:`Destination` with every key, defaults filled."""
    return Destination(kind=kind, default=default, max=max, required=required, label=label,
                       help=help, special=special)


def _ncic() -> Destination:
    return destination(kind="fixed", default="NCIC")


@dataclass(frozen=True, eq=True)
class ConfirmBy(_AsMapping):
    """The answer deadline a message starts: minutes by the value of a choice field (YQ: PRI
    U = 10, R = 60)."""

    field: str
    minutes: Mapping[str, int]

    def __hash__(self) -> int:
        return hash((self.field, tuple(sorted(self.minutes.items()))))

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "minutes": dict(self.minutes)}


Group = tuple[tuple[str, ...], ...]  # alternative field sets; one of them must be complete


@dataclass(frozen=True, eq=True)
class AlternativesWhen(_AsMapping):
    """Alternative groups that depend on a choice field's value (YQ: the data set required
    depends on the request type RTY)."""

    field: str
    cases: Mapping[str, tuple[Group, ...]]

    def __hash__(self) -> int:
        return hash((self.field, tuple(sorted(self.cases.items()))))

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field,
                "cases": {k: [[list(o) for o in g] for g in v] for k, v in self.cases.items()}}


@dataclass(frozen=True)
class FieldDef:
    """One field of a form, in tab order."""

    tag: str
    label: str
    kind: str
    required: bool = False
    max_length: int | None = None
    code_table: str | None = None
    choices: tuple[Choice, ...] = ()
    default_from: str | None = None
    default: str | None = None
    help: str = ""
    placeholder: str = ""
    formats: tuple[str, ...] = ()  # date kinds: CCYYMMDD (the default), MMDDYY
    allow_hyphen: bool = False  # text kinds: hyphens are refused in inquiries unless allowed
    pattern: str | None = None  # an extra regular expression the whole value must match
    pattern_help: str = ""  # what to say when it does not ("must be ...")
    untagged: bool = False  # written without its "TAG/" (AM's free text); the last field only

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tag": self.tag, "label": self.label, "kind": self.kind,
                               "required": self.required}
        for name in ("max_length", "code_table", "default_from", "default", "pattern"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in ("help", "placeholder", "pattern_help"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.choices:
            out["choices"] = [c.to_dict() for c in self.choices]
        if self.formats:
            out["formats"] = list(self.formats)
        for name in ("allow_hyphen", "untagged"):
            if getattr(self, name):
                out[name] = True
        return out


@dataclass(frozen=True)
class FormDef:
    """A whole query form. Build one with :meth:`from_dict` (which validates it)."""

    mke: str
    title: str
    description: str
    fields: tuple[FieldDef, ...]
    alternatives: tuple[Group, ...] = ()
    destination: Destination = dataclasses.field(default_factory=_ncic)
    purpose_codes: tuple[Choice, ...] = ()
    function_key: str | None = None
    confirm_by: ConfirmBy | None = None
    alternatives_when: AlternativesWhen | None = None
    template: bool = False  # the layout is a template (YR: the real layout was not confirmed)
    schema: int = SCHEMA_VERSION

    def __hash__(self) -> int:  # the destination is a dict; equal forms share these
        return hash((self.mke, self.title, self.fields))

    def field(self, tag: str) -> FieldDef:
        """The field with this tag; ``KeyError`` if the form has none."""
        tag = tag.strip().upper()
        for f in self.fields:
            if f.tag == tag:
                return f
        raise KeyError(tag)

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(f.tag for f in self.fields)

    def initial_values(self, profile: Mapping[str, str] | None = None) -> dict[str, str]:
        """The values a fresh form starts with: from the operator's profile (``default_from``,
        e.g. ``OperatorProfile.defaults()``), else the field's ``default``."""
        profile = profile or {}
        values: dict[str, str] = {}
        for f in self.fields:
            value = (profile.get(f.default_from, "") if f.default_from else "") or f.default
            if value:
                values[f.tag] = str(value).upper()
        return values

    def to_dict(self) -> dict[str, Any]:
        """The definition as JSON data; ``FormDef.from_dict(form.to_dict()) == form``."""
        out: dict[str, Any] = {
            "schema": self.schema, "mke": self.mke, "title": self.title,
            "description": self.description, "fields": [f.to_dict() for f in self.fields],
            "alternatives": [[list(option) for option in group] for group in self.alternatives],
            "destination": {**self.destination,
                            "special": [c.to_dict() for c in self.destination["special"]]},
        }
        if self.purpose_codes:
            out["purpose_codes"] = [c.to_dict() for c in self.purpose_codes]
        if self.function_key:
            out["function_key"] = self.function_key
        if self.confirm_by:
            out["confirm_by"] = self.confirm_by.to_dict()
        if self.alternatives_when:
            out["alternatives_when"] = self.alternatives_when.to_dict()
        if self.template:
            out["template"] = True
        return out

    @classmethod
    def from_dict(cls, data: Any) -> FormDef:
        """A definition from JSON data, checked; :class:`FormDefinitionError` says what is wrong
        (which form, which field, which key, what was expected)."""
        return _Reader(data).form()


# -- reading and checking a definition -----------------------------------------------------------

_FORM_KEYS = {"schema", "mke", "title", "description", "fields", "alternatives", "destination",
              "purpose_codes", "function_key", "confirm_by", "alternatives_when", "template"}
_FIELD_KEYS = {"tag", "label", "kind", "required", "max_length", "code_table", "choices",
               "default_from", "default", "help", "placeholder", "formats", "allow_hyphen",
               "pattern", "pattern_help", "untagged"}
_DEST_KEYS = {"kind", "default", "max", "required", "label", "help", "special"}


class _Reader:
    def __init__(self, data: Any) -> None:
        self.data = data
        self.where = "form definition"

    def fail(self, text: str) -> FormDefinitionError:
        return FormDefinitionError(f"{self.where}: {text}")

    def obj(self, value: Any, what: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"{what} must be an object, not {type(value).__name__}.")
        unknown = sorted(k for k in value if k not in allowed and not str(k).startswith("x_"))
        if unknown:
            raise self.fail(f"{what} has unknown key(s) {', '.join(map(repr, unknown))} "
                            f"(known: {', '.join(sorted(allowed))}).")
        return value

    def text(self, obj: dict[str, Any], key: str, *, required: bool = False,
             default: str = "") -> str:
        value = obj.get(key)
        if value is None:
            if required:
                raise self.fail(f"'{key}' is missing.")
            return default
        if not isinstance(value, str):
            raise self.fail(f"'{key}' must be text, not {type(value).__name__}.")
        if required and not value.strip():
            raise self.fail(f"'{key}' is empty.")
        return value

    def flag(self, obj: dict[str, Any], key: str, default: bool) -> bool:
        value = obj.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"'{key}' must be true or false, not {value!r}.")
        return value

    def integer(self, obj: dict[str, Any], key: str, default: int | None) -> int | None:
        value = obj.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(f"'{key}' must be a whole number of at least 1, not {value!r}.")
        return value

    def choices(self, value: Any, key: str) -> tuple[Choice, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(f"'{key}' must be a list of {{value, label}}.")
        out = []
        for i, raw in enumerate(value, 1):
            item = self.obj(raw, f"'{key}' item {i}", {"value", "label"})
            code = self.text(item, "value", required=True).strip().upper()
            out.append(Choice(code, self.text(item, "label", default=code)))
        values = [c.value for c in out]
        if len(set(values)) != len(values):
            raise self.fail(f"'{key}' repeats a value.")
        return tuple(out)

    def group_list(self, value: Any, key: str, tags: set[str]) -> tuple[Group, ...]:
        if value is None:
            return ()
        shape = (f"'{key}' must be a list of groups, each a list of field sets, each a list of "
                 'tags: [[["LIC", "LIS"], ["VIN"]]].')
        if not isinstance(value, list):
            raise self.fail(shape)
        groups = []
        for group in value:
            if not isinstance(group, list) or not group:
                raise self.fail(shape)
            options = []
            for option in group:
                if (not isinstance(option, list) or not option
                        or not all(isinstance(t, str) for t in option)):
                    raise self.fail(shape)
                upper = tuple(t.strip().upper() for t in option)
                missing = sorted(set(upper) - tags)
                if missing:
                    raise self.fail(f"'{key}' names unknown fields {', '.join(missing)}.")
                options.append(upper)
            groups.append(tuple(options))
        return tuple(groups)

    def field(self, raw: Any, index: int, mke: str) -> FieldDef:
        self.where = f"form {mke}, field {index}"
        obj = self.obj(raw, "the field", _FIELD_KEYS)
        tag = self.text(obj, "tag", required=True).strip().upper()
        if not _TAG.fullmatch(tag):
            raise self.fail(f"tag {tag!r} must be 2-4 capital letters or digits, starting with "
                            "a letter.")
        self.where = f"form {mke}, field {tag}"
        kind = self.text(obj, "kind", required=True)
        if kind not in KINDS:
            raise self.fail(f"unknown kind {kind!r} (known: {', '.join(KINDS)}).")
        code_table = self.text(obj, "code_table").strip() or None
        if kind == "code" and not code_table:
            raise self.fail("a code field must name its code_table.")
        choices = self.choices(obj.get("choices"), "choices")
        if kind == "choice" and not choices:
            raise self.fail("a choice field must list its choices.")
        default_from = self.text(obj, "default_from") or None
        if default_from is not None and default_from not in DEFAULT_FROM:
            raise self.fail(f"default_from {default_from!r} is not a profile key "
                            f"({', '.join(DEFAULT_FROM)}).")
        default = obj.get("default")
        if default is not None and not isinstance(default, str):
            raise self.fail(f"'default' must be text, not {type(default).__name__}.")
        if default is not None and choices and default.upper() not in {c.value for c in choices}:
            raise self.fail(f"default {default!r} is not one of its choices.")
        formats: tuple[str, ...] = ()
        if obj.get("formats") is not None:
            raw_formats = obj["formats"]
            if (kind != "date" or not isinstance(raw_formats, list) or not raw_formats
                    or not all(f in DATE_FORMATS for f in raw_formats)):
                raise self.fail(f"'formats' is for date fields: a list of "
                                f"{', '.join(DATE_FORMATS)}.")
            formats = tuple(raw_formats)
        pattern = self.text(obj, "pattern") or None
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.fail(f"pattern {pattern!r} is not a regular expression ({exc}).")\
                    from None
        return FieldDef(
            tag=tag, label=self.text(obj, "label", required=True), kind=kind,
            required=self.flag(obj, "required", False),
            max_length=self.integer(obj, "max_length", None), code_table=code_table,
            choices=choices, default_from=default_from,
            default=default.upper() if default else None,
            help=self.text(obj, "help"), placeholder=self.text(obj, "placeholder"),
            formats=formats, allow_hyphen=self.flag(obj, "allow_hyphen", False),
            pattern=pattern, pattern_help=self.text(obj, "pattern_help"),
            untagged=self.flag(obj, "untagged", False))

    def destination(self, raw: Any, mke: str) -> Destination:
        self.where = f"form {mke}, destination"
        if raw is None:
            return _ncic()
        obj = self.obj(raw, "the destination", _DEST_KEYS)
        kind = self.text(obj, "kind", default="fixed")
        if kind not in DESTINATION_KINDS:
            raise self.fail(f"unknown kind {kind!r} (known: {', '.join(DESTINATION_KINDS)}).")
        default = self.text(obj, "default").strip().upper()
        if kind == "fixed" and not default:
            raise self.fail("a fixed destination needs its default (NCIC, AX ...).")
        most = self.integer(obj, "max", 1) or 1
        if kind in ("fixed", "state") and most != 1:
            raise self.fail(f"a {kind} destination is one destination; max must be 1.")
        return destination(kind=kind, default=default, max=most,
                           required=self.flag(obj, "required", True),
                           label=self.text(obj, "label", default="Destination"),
                           help=self.text(obj, "help"),
                           special=self.choices(obj.get("special"), "special"))

    def form(self) -> FormDef:
        data = self.obj(self.data, "the form definition", _FORM_KEYS)
        schema = data.get("schema", SCHEMA_VERSION)
        if isinstance(schema, bool) or not isinstance(schema, int):
            raise self.fail(f"'schema' must be a number, not {schema!r}.")
        if schema > SCHEMA_VERSION:
            raise self.fail(f"uses form schema {schema}; this MDT reads schema "
                            f"{SCHEMA_VERSION}. Update MDT to use it.")
        mke = self.text(data, "mke", required=True).strip().upper()
        if not _MKE.fullmatch(mke):
            raise self.fail(f"message key {mke!r} must be 2-4 capital letters or digits.")
        self.where = f"form {mke}"
        title = self.text(data, "title", required=True)
        raw_fields = data.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            raise self.fail("'fields' must be a non-empty list.")
        fields = tuple(self.field(raw, i, mke) for i, raw in enumerate(raw_fields, 1))
        self.where = f"form {mke}"
        tags = [f.tag for f in fields]
        repeated = sorted({t for t in tags if tags.count(t) > 1})
        if repeated:
            raise self.fail(f"field(s) {', '.join(repeated)} appear more than once.")
        if any(f.untagged for f in fields[:-1]):
            raise self.fail("only the last field can be untagged (written without TAG/).")
        alternatives = self.group_list(data.get("alternatives"), "alternatives", set(tags))
        when = self.alternatives_when(data.get("alternatives_when"), fields)
        function_key = self.text(data, "function_key") or None
        if function_key is not None and not _FUNCTION_KEY.fullmatch(function_key):
            raise self.fail(f"function_key {function_key!r} must be F1 to F12 (with Ctrl+, "
                            "Shift+ or Alt+ if wanted).")
        purpose_codes = self.choices(data.get("purpose_codes"), "purpose_codes")
        destination = self.destination(data.get("destination"), mke)
        self.where = f"form {mke}"
        return FormDef(mke=mke, title=title, description=self.text(data, "description"),
                       fields=fields, alternatives=alternatives, destination=destination,
                       purpose_codes=purpose_codes, function_key=function_key,
                       confirm_by=self.confirm_by(data.get("confirm_by"), fields),
                       alternatives_when=when, template=self.flag(data, "template", False),
                       schema=schema)

    def _choice_field(self, key: str, tag: Any, fields: tuple[FieldDef, ...]) -> FieldDef:
        match = [f for f in fields if isinstance(tag, str) and f.tag == tag.strip().upper()]
        if not match or match[0].kind != "choice":
            raise self.fail(f"'{key}' must name a choice field of the form, not {tag!r}.")
        return match[0]

    def confirm_by(self, raw: Any, fields: tuple[FieldDef, ...]) -> ConfirmBy | None:
        if raw is None:
            return None
        obj = self.obj(raw, "'confirm_by'", {"field", "minutes"})
        selector = self._choice_field("confirm_by.field", obj.get("field"), fields)
        minutes = obj.get("minutes")
        values = {c.value for c in selector.choices}
        if (not isinstance(minutes, dict) or not minutes
                or not all(isinstance(k, str) and k.upper() in values for k in minutes)
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                           for v in minutes.values())):
            raise self.fail(f"'confirm_by.minutes' must map values of {selector.tag} "
                            f"({', '.join(sorted(values))}) to minutes.")
        return ConfirmBy(selector.tag, {k.upper(): v for k, v in minutes.items()})

    def alternatives_when(self, raw: Any, fields: tuple[FieldDef, ...]
                          ) -> AlternativesWhen | None:
        if raw is None:
            return None
        obj = self.obj(raw, "'alternatives_when'", {"field", "cases"})
        selector = self._choice_field("alternatives_when.field", obj.get("field"), fields)
        cases = obj.get("cases")
        values = {c.value for c in selector.choices}
        if not isinstance(cases, dict) or not all(isinstance(k, str) and k.upper() in values
                                                  for k in cases):
            raise self.fail(f"'alternatives_when.cases' must map values of {selector.tag} "
                            f"({', '.join(sorted(values))}) to alternative groups.")
        tags = {f.tag for f in fields}
        return AlternativesWhen(selector.tag, {
            k.upper(): self.group_list(v, f"alternatives_when.cases.{k}", tags)
            for k, v in cases.items()})


# -- the shipped forms ---------------------------------------------------------------------------

@cache
def _load(mke: str) -> FormDef:
    path = resources_dir() / "forms" / f"{mke}.json"
    if not _MKE.fullmatch(mke) or not path.exists():
        raise FormDefinitionError(f"There is no form for message key '{mke}'.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormDefinitionError(f"{path.name} cannot be read: {exc}") from exc
    form = FormDef.from_dict(data)
    if form.mke != mke:
        raise FormDefinitionError(f"{path.name} defines {form.mke}, not {mke}.")
    return form


def load_form(mke: str) -> FormDef:
    """The shipped definition for a message key (``QV``); cached."""
    return _load(mke.strip().upper())


@cache
def _all() -> tuple[FormDef, ...]:
    return tuple(load_form(mke) for mke in KEYS)


def all_forms() -> list[FormDef]:
    """Every shipped form, in the order of ``KEYS``; cached."""
    return list(_all())


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
            form = FormDef.from_dict(raw)
            served[form.mke] = form
        return cls({**base.forms, **served}, "gateway")

    def get(self, mke: str) -> FormDef:
        try:
            return self.forms[mke.strip().upper()]
        except KeyError:
            raise FormDefinitionError(f"There is no form for message key '{mke}'.") from None

    def all(self) -> list[FormDef]:
        ordered = [self.forms[k] for k in KEYS if k in self.forms]
        return ordered + [f for k, f in sorted(self.forms.items()) if k not in KEYS]

