"""The typed parts of a form definition: fields in tab order (tag, label, kind, length,
required, code table, choices, defaults from the operator's profile, help), choices, the
destination, the alternative field sets, the confirm-by rule, and the constants of the schema.
:class:`~mdt.core.form_schema.FormDef` puts them together. No Qt, no pydantic.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

SCHEMA_VERSION = 1
KINDS = ("text", "name", "date", "vin", "code", "number", "choice", "ori", "nic", "height",
         "weight", "arn", "oln", "free_text")
# Date formats a date field may accept (``formats`` in the definition), by their NCIC names.
DATE_FORMATS = {"CCYYMMDD": "%Y%m%d", "MMDDYY": "%m%d%y"}
DESTINATION_KINDS = ("fixed", "state", "states", "ori")
# Operator-profile keys a field may take its default from (see OperatorProfile.defaults()).
DEFAULT_FROM = ("ori", "atn", "phn", "name", "unit", "state")
TAG = re.compile(r"[A-Z][A-Z0-9]{1,3}")
MKE = re.compile(r"[A-Z][A-Z0-9]{1,3}")
FUNCTION_KEY = re.compile(r"(?:(?:Ctrl|Shift|Alt)\+)*F(?:[1-9]|1[0-2])")


class FormDefinitionError(ValueError):
    """A form definition (shipped or served by a gateway) is not usable; says what is wrong."""


class AsMapping(Mapping[str, Any]):
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


def ncic() -> Destination:
    return destination(kind="fixed", default="NCIC")


@dataclass(frozen=True, eq=True)
class ConfirmBy(AsMapping):
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
class AlternativesWhen(AsMapping):
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
