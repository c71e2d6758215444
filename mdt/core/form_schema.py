"""The form-definition file: its schema and the typed definition read from it. No Qt.

A definition (``resources/forms/*.json``, or one a gateway serves) is validated by pydantic
against :class:`FormFile` at the boundary, once, and becomes a :class:`FormDef`: fields in tab
order (tag, label, kind, length, required, code table, choices, defaults from the operator's
profile, help), the alternative field sets of which one must be complete (QV: LIC + LIS, or VIN),
the destination, the purpose codes and the function key. Anything wrong is a
:class:`FormDefinitionError` whose sentence names the form, the field and the key. The schema is
documented in ``docs/forms.md``.

:mod:`mdt.core.rules` checks values against a :class:`FormDef`; :mod:`mdt.core.forms` loads the
shipped definitions. This module imports neither.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from mdt.core.form_errors import FORMATS, minutes_sentence, sentence, where
from mdt.core.form_model import (
    DATE_FORMATS,
    DEFAULT_FROM,
    DESTINATION_KINDS,
    FUNCTION_KEY,
    KINDS,
    MKE,
    SCHEMA_VERSION,
    TAG,
    AlternativesWhen,
    Choice,
    ConfirmBy,
    Destination,
    FieldDef,
    FormDefinitionError,
    Group,
    destination,
    ncic,
)

__all__ = [
    "DATE_FORMATS",
    "DEFAULT_FROM",
    "DESTINATION_KINDS",
    "KINDS",
    "MKE",
    "SCHEMA_VERSION",
    "AlternativesWhen",
    "Choice",
    "ConfirmBy",
    "Destination",
    "FieldDef",
    "FormDef",
    "FormDefinitionError",
    "FormFile",
    "destination",
]

@dataclass(frozen=True)
class FormDef:
    """A whole query form. Build one with :meth:`from_dict` (which validates it)."""

    mke: str
    title: str
    description: str
    fields: tuple[FieldDef, ...]
    alternatives: tuple[Group, ...] = ()
    destination: Destination = dataclasses.field(default_factory=ncic)
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
        return FormFile.read(data)


# -- the file, as pydantic validates it -----------------------------------------------------------
#
# Strict types (a "10" is not a length, a "yes" is not true); keys beginning "x_" are an agency's
# extensions and are ignored; any other unknown key is refused. A rule a type cannot say raises a
# PydanticCustomError carrying the whole sentence; :func:`_sentence` words the library's own errors
# the same way, and :func:`_where` names the form and the field.

def _fail(sentence: str) -> PydanticCustomError:
    return PydanticCustomError("form_definition", "{sentence}", {"sentence": sentence})


def _required_text(value: str, info: ValidationInfo) -> str:
    if not value.strip():
        raise _fail(f"'{info.field_name}' is empty.")
    return value


def _unique_values(value: list[ChoiceSpec] | None, info: ValidationInfo) -> list[ChoiceSpec] | None:
    values = [c.value for c in value or ()]
    if len(set(values)) != len(values):
        raise _fail(f"'{info.field_name}' repeats a value.")
    return value


RequiredText = Annotated[str, AfterValidator(_required_text)]
Whole = Annotated[int, Field(ge=1)]
Tags = Annotated[list[str], Field(min_length=1)]
# One alternative group: a non-empty list of field sets, each a non-empty list of tags. A key
# holding groups holds a list of them.
Groups = Annotated[list[Tags], Field(min_length=1)]


class _Part(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_extensions(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not str(k).startswith("x_")}
        return data


class ChoiceSpec(_Part):
    value: RequiredText
    label: str | None = None

    @field_validator("value")
    @classmethod
    def _code(cls, value: str) -> str:
        return value.strip().upper()

    def choice(self) -> Choice:
        return Choice(self.value, self.value if self.label is None else self.label)


Choices = Annotated[list[ChoiceSpec] | None, AfterValidator(_unique_values)]


def _choices(specs: list[ChoiceSpec] | None) -> tuple[Choice, ...]:
    return tuple(c.choice() for c in specs or ())


class FieldSpec(_Part):
    tag: RequiredText
    label: RequiredText
    kind: RequiredText
    required: bool = False
    max_length: Whole | None = None
    code_table: str | None = None
    choices: Choices = None
    default_from: str | None = None
    default: str | None = None
    help: str | None = None
    placeholder: str | None = None
    formats: list[str] | None = None
    allow_hyphen: bool = False
    pattern: str | None = None
    pattern_help: str | None = None
    untagged: bool = False

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        tag = value.strip().upper()
        if not TAG.fullmatch(tag):
            raise _fail(f"tag {tag!r} must be 2-4 capital letters or digits, starting with a letter.")
        return tag

    @field_validator("kind")
    @classmethod
    def _kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise _fail(f"unknown kind {kind!r} (known: {', '.join(KINDS)}).")
        return kind

    @field_validator("default_from")
    @classmethod
    def _default_from(cls, value: str | None) -> str | None:
        if value and value not in DEFAULT_FROM:
            raise _fail(f"default_from {value!r} is not a profile key ({', '.join(DEFAULT_FROM)}).")
        return value or None

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, pattern: str | None) -> str | None:
        if pattern:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise _fail(f"pattern {pattern!r} is not a regular expression ({exc}).") from None
        return pattern or None

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.kind == "code" and not (self.code_table or "").strip():
            raise _fail("a code field must name its code_table.")
        if self.kind == "choice" and not self.choices:
            raise _fail("a choice field must list its choices.")
        if (self.default is not None and self.choices
                and self.default.upper() not in {c.value for c in self.choices}):
            raise _fail(f"default {self.default!r} is not one of its choices.")
        if self.formats is not None and (
                self.kind != "date" or not self.formats
                or not all(f in DATE_FORMATS for f in self.formats)):
            raise _fail(FORMATS)
        return self

    def field_def(self) -> FieldDef:
        return FieldDef(
            tag=self.tag, label=self.label, kind=self.kind, required=self.required,
            max_length=self.max_length, code_table=(self.code_table or "").strip() or None,
            choices=_choices(self.choices), default_from=self.default_from,
            default=self.default.upper() if self.default else None, help=self.help or "",
            placeholder=self.placeholder or "", formats=tuple(self.formats or ()),
            allow_hyphen=self.allow_hyphen, pattern=self.pattern,
            pattern_help=self.pattern_help or "", untagged=self.untagged)




class DestinationSpec(_Part):
    kind: str | None = "fixed"
    default: str | None = None
    max: Whole | None = None
    required: bool = True
    label: str | None = None
    help: str | None = None
    special: Choices = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, kind: str | None) -> str:
        kind = "fixed" if kind is None else kind
        if kind not in DESTINATION_KINDS:
            raise _fail(f"unknown kind {kind!r} (known: {', '.join(DESTINATION_KINDS)}).")
        return kind

    @model_validator(mode="after")
    def _consistent(self) -> DestinationSpec:
        if self.kind == "fixed" and not (self.default or "").strip():
            raise _fail("a fixed destination needs its default (NCIC, AX ...).")
        if self.kind in ("fixed", "state") and (self.max or 1) != 1:
            raise _fail(f"a {self.kind} destination is one destination; max must be 1.")
        return self

    def destination(self) -> Destination:
        return destination(kind=self.kind or "fixed", default=(self.default or "").strip().upper(),
                           max=self.max or 1, required=self.required,
                           label="Destination" if self.label is None else self.label,
                           help=self.help or "", special=_choices(self.special))


class ConfirmBySpec(_Part):
    field: str | None = None
    minutes: Annotated[dict[str, Whole], Field(min_length=1)]


class AlternativesWhenSpec(_Part):
    field: str | None = None
    cases: dict[str, list[Groups] | None]


class FormFile(_Part):
    """A form-definition file (``resources/forms/QV.json``), as validated; :meth:`read` gives
    the :class:`FormDef` it defines."""

    schema_: int = Field(SCHEMA_VERSION, alias="schema")
    mke: RequiredText
    title: RequiredText
    description: str | None = None
    fields: Annotated[list[FieldSpec], Field(min_length=1)]
    alternatives: list[Groups] | None = None
    alternatives_when: AlternativesWhenSpec | None = None
    function_key: str | None = None
    purpose_codes: Choices = None
    destination: DestinationSpec | None = None
    confirm_by: ConfirmBySpec | None = None
    template: bool = False

    @field_validator("schema_")
    @classmethod
    def _schema(cls, schema: int) -> int:
        if schema > SCHEMA_VERSION:
            raise _fail(f"uses form schema {schema}; this MDT reads schema {SCHEMA_VERSION}. "
                        "Update MDT to use it.")
        return schema

    @field_validator("mke")
    @classmethod
    def _mke(cls, value: str) -> str:
        mke = value.strip().upper()
        if not MKE.fullmatch(mke):
            raise _fail(f"message key {mke!r} must be 2-4 capital letters or digits.")
        return mke

    @field_validator("function_key")
    @classmethod
    def _function_key(cls, key: str | None) -> str | None:
        if key and not FUNCTION_KEY.fullmatch(key):
            raise _fail(f"function_key {key!r} must be F1 to F12 (with Ctrl+, Shift+ or Alt+ "
                        "if wanted).")
        return key or None

    @model_validator(mode="after")
    def _consistent(self) -> FormFile:
        tags = [f.tag for f in self.fields]
        repeated = sorted({t for t in tags if tags.count(t) > 1})
        if repeated:
            raise _fail(f"field(s) {', '.join(repeated)} appear more than once.")
        if any(f.untagged for f in self.fields[:-1]):
            raise _fail("only the last field can be untagged (written without TAG/).")
        _groups(self.alternatives, "alternatives", set(tags))
        if self.alternatives_when is not None:
            selector = self._selector("alternatives_when.field", self.alternatives_when.field)
            values = {c.value for c in selector.choices or ()}
            if not all(k.upper() in values for k in self.alternatives_when.cases):
                raise _fail(f"'alternatives_when.cases' must map values of {selector.tag} "
                            f"({', '.join(sorted(values))}) to alternative groups.")
            for k, v in self.alternatives_when.cases.items():
                _groups(v, f"alternatives_when.cases.{k}", set(tags))
        if self.confirm_by is not None:
            selector = self._selector("confirm_by.field", self.confirm_by.field)
            values = {c.value for c in selector.choices or ()}
            if not all(k.upper() in values for k in self.confirm_by.minutes):
                raise _fail(minutes_sentence(selector.tag, values))
        return self

    def _selector(self, key: str, tag: str | None) -> FieldSpec:
        match = [f for f in self.fields if tag is not None and f.tag == tag.strip().upper()]
        if not match or match[0].kind != "choice":
            raise _fail(f"'{key}' must name a choice field of the form, not {tag!r}.")
        return match[0]

    def form(self) -> FormDef:
        """The typed definition this file defines."""
        when = self.alternatives_when
        confirm = self.confirm_by
        return FormDef(
            mke=self.mke, title=self.title, description=self.description or "",
            fields=tuple(f.field_def() for f in self.fields),
            alternatives=_group_tuple(self.alternatives),
            destination=self.destination.destination() if self.destination else ncic(),
            purpose_codes=_choices(self.purpose_codes), function_key=self.function_key,
            confirm_by=ConfirmBy(self._selector("", confirm.field).tag,
                                 {k.upper(): v for k, v in confirm.minutes.items()})
            if confirm else None,
            alternatives_when=AlternativesWhen(
                self._selector("", when.field).tag,
                {k.upper(): _group_tuple(v) for k, v in when.cases.items()}) if when else None,
            template=self.template, schema=self.schema_)

    @classmethod
    def read(cls, data: Any) -> FormDef:
        """The :class:`FormDef` in ``data`` (parsed JSON); :class:`FormDefinitionError` with one
        sentence naming the form, the field and the key when it is not a usable definition."""
        try:
            return cls.model_validate(data).form()
        except ValidationError as exc:
            errors = exc.errors()
            first = errors[0]
            # An object's unknown keys are named before anything inside it.
            first = next((e for e in errors if e["type"] == "extra_forbidden"
                          and tuple(first["loc"][:len(e["loc"]) - 1]) == tuple(e["loc"][:-1])),
                         first)
            raise FormDefinitionError(
                f"{where(tuple(first['loc']), first['type'], data)}: "
                f"{sentence(first, errors, data, _PARTS)}") from None


def _groups(groups: list[Groups] | None, key: str, tags: set[str]) -> None:
    named = {t.strip().upper() for group in groups or () for option in group for t in option}
    missing = sorted(named - tags)
    if missing:
        raise _fail(f"'{key}' names unknown fields {', '.join(missing)}.")


def _group_tuple(groups: list[Groups] | None) -> tuple[Group, ...]:
    return tuple(tuple(tuple(t.strip().upper() for t in option) for option in group)
                 for group in groups or ())


# The models of each part, for the sentences (mdt.core.form_errors).
_PARTS: dict[str, type[BaseModel]] = {
    "": FormFile, "choice": ChoiceSpec, "fields": FieldSpec, "destination": DestinationSpec,
    "confirm_by": ConfirmBySpec, "alternatives_when": AlternativesWhenSpec}
