"""The schema library's errors about a form definition, worded as the sentences MDT has always
given (which form, which field, which key, what was expected). No Qt.

:func:`sentence` is given the schema's models by part (``parts``): it reads their keys for the
"known:" list, and imports nothing of the schema itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from mdt.core.form_model import DATE_FORMATS, MKE, TAG

FORMATS = f"'formats' is for date fields: a list of {', '.join(DATE_FORMATS)}."


def minutes_sentence(tag: str, values: set[str]) -> str:
    return f"'confirm_by.minutes' must map values of {tag} ({', '.join(sorted(values))}) to minutes."


Parts = Mapping[str, type[BaseModel]]
"""The schema's model of each part: ``""`` (the file), ``"choice"``, ``"fields"``,
``"destination"``, ``"confirm_by"``, ``"alternatives_when"``."""
_CHOICE_KEYS = ("choices", "special", "purpose_codes")
_MAPS = (("confirm_by", "minutes"), ("alternatives_when", "cases"))


def _valid(value: Any, pattern: re.Pattern[str]) -> str | None:
    text = value.strip().upper() if isinstance(value, str) else None
    return text if text and pattern.fullmatch(text) else None


def where(loc: tuple[int | str, ...], kind: str, data: Any) -> str:
    mke = _valid(data.get("mke"), MKE) if isinstance(data, dict) else None
    # The object itself, its unknown keys and its schema are checked before its message key is
    # read, a field's before its tag: those sentences name only the form definition, the field's
    # place.
    if mke is None or (kind == "extra_forbidden" and len(loc) == 1) or loc[:1] == ("schema",):
        return "form definition"
    if len(loc) >= 2 and loc[0] == "fields" and isinstance(loc[1], int):
        raw = data["fields"][loc[1]]
        early = (kind == "model_type" and len(loc) == 2) or (kind == "extra_forbidden" and len(loc) == 3)
        tag = _valid(raw.get("tag"), TAG) if isinstance(raw, dict) and not early else None
        return f"form {mke}, field {tag or loc[1] + 1}"
    if loc and loc[0] == "destination":
        return f"form {mke}, destination"
    return f"form {mke}"


def _part(loc: tuple[int | str, ...], parts: Parts) -> tuple[str, type[BaseModel]]:
    """What the object at ``loc`` is called in a sentence, and its model."""
    if not loc:
        return "the form definition", parts[""]
    if len(loc) >= 2 and isinstance(loc[-1], int) and loc[-2] in _CHOICE_KEYS:
        return f"'{loc[-2]}' item {loc[-1] + 1}", parts["choice"]
    if loc[0] == "fields":
        return "the field", parts["fields"]
    name = str(loc[0])
    return (f"the {name}" if name == "destination" else f"'{name}'"), parts[name]


def _selector_values(data: Any, key: str) -> tuple[str, set[str]] | str:
    """The choice field that ``key`` (confirm_by, alternatives_when) names in the raw ``data``
    and its values, or the sentence saying it names none."""
    raw = data.get(key) if isinstance(data, dict) else None
    tag = raw.get("field") if isinstance(raw, dict) else None
    fields = (data.get("fields") or ()) if isinstance(data, dict) else ()
    for field in fields if isinstance(fields, list) else ():
        if (isinstance(field, dict) and isinstance(tag, str) and field.get("kind") == "choice"
                and str(field.get("tag", "")).strip().upper() == tag.strip().upper()):
            return tag.strip().upper(), {str(c.get("value", "")).strip().upper()
                                         for c in field.get("choices") or () if isinstance(c, dict)}
    return f"'{key}.field' must name a choice field of the form, not {tag!r}."


def sentence(error: Any, errors: list[Any], data: Any, parts: Parts) -> str:
    """The sentence for one of pydantic's ``errors`` about the raw definition ``data``."""
    loc: tuple[int | str, ...] = tuple(error["loc"])
    kind, value = error["type"], error.get("input")
    if kind == "form_definition":
        return str(error["ctx"]["sentence"])
    key = next((str(k) for k in reversed(loc) if isinstance(k, str)), "")
    if kind == "extra_forbidden":
        parent = loc[:-1]
        what, model = _part(parent, parts)
        unknown = sorted(str(e["loc"][-1]) for e in errors
                         if e["type"] == "extra_forbidden" and tuple(e["loc"][:-1]) == parent)
        known = sorted(f.alias or name for name, f in model.model_fields.items())
        return (f"{what} has unknown key(s) {', '.join(map(repr, unknown))} "
                f"(known: {', '.join(known)}).")
    if kind in ("model_type", "dict_type") and loc[:2] not in _MAPS:
        return f"{_part(loc, parts)[0]} must be an object, not {type(value).__name__}."
    if loc[:1] == ("fields",) and len(loc) == 1:
        return "'fields' must be a non-empty list."
    if loc[:2] == ("alternatives_when", "cases") and len(loc) > 2:
        selector = _selector_values(data, "alternatives_when")  # checked before the cases
        if isinstance(selector, str):
            return selector
        if str(loc[2]).upper() not in selector[1]:
            return (f"'alternatives_when.cases' must map values of {selector[0]} "
                    f"({', '.join(sorted(selector[1]))}) to alternative groups.")
    if loc[:1] == ("alternatives",) or (loc[:2] == ("alternatives_when", "cases") and len(loc) > 2):
        where = "alternatives" if loc[0] == "alternatives" else f"alternatives_when.cases.{loc[2]}"
        return (f"'{where}' must be a list of groups, each a list of field sets, each a list of "
                'tags: [[["LIC", "LIS"], ["VIN"]]].')
    if loc[1:2] == ("field",) and loc[0] in ("confirm_by", "alternatives_when"):
        return f"'{loc[0]}.field' must name a choice field of the form, not {value!r}."
    if loc[:2] in _MAPS:
        selector = _selector_values(data, str(loc[0]))
        if isinstance(selector, str):
            return selector
        tag, values = selector
        if loc[0] == "confirm_by":
            return minutes_sentence(tag, values)
        return (f"'alternatives_when.cases' must map values of {tag} ({', '.join(sorted(values))}) "
                "to alternative groups.")
    if key in _CHOICE_KEYS and kind == "list_type":
        return f"'{key}' must be a list of {{value, label}}."
    if key == "formats":
        return FORMATS
    if kind == "missing" or (kind == "string_type" and value is None):
        return f"'{key}' is missing."
    if kind == "string_type":
        return f"'{key}' must be text, not {type(value).__name__}."
    if kind == "bool_type":
        return f"'{key}' must be true or false, not {value!r}."
    if key == "schema":
        return f"'schema' must be a number, not {value!r}."
    if kind in ("int_type", "greater_than_equal"):
        return f"'{key}' must be a whole number of at least 1, not {value!r}."
    return f"'{'.'.join(map(str, loc))}': {error['msg']}."
