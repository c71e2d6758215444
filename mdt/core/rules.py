"""Field rules: what the switch would reject, caught on the form. No Qt.

Every problem is a :class:`FieldError` whose message is a sentence a person understands and names
the field ("Plate state (LIS) 'ZZ' is not an NCIC state code."). Errors block sending; warnings
(a VIN whose check digit does not add up, an old or foreign VIN) are shown but do not.

Four checks run on a value, in this order, stopping at the first error:

1. the field's ``kind`` (name, date, vin, code, ori, nic, height, weight, arn, oln, number,
   choice, text, free_text);
2. the NCIC meaning of its tag, wherever it appears (``LIC`` is a plate: 1-10 letters and digits;
   ``MNU`` is a prefix from the MNU table, a hyphen, a number; ``SOC`` is 9 digits ...);
3. the definition's ``max_length`` (after the others, whose sentences say more: "cannot contain
   hyphens" helps more than "is longer than 9 characters");
4. the definition's own ``pattern`` (a gateway can serve a new field with its own format).

:func:`normalize`, :func:`validate_field` and :func:`validate_form` work on a
:class:`mdt.core.form_schema.FormDef`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from mdt.core.codes import CodeTables
from mdt.core.form_schema import DATE_FORMATS, KINDS, FieldDef, FormDef

__all__ = ["DATE_FORMATS", "KINDS", "TAG_RULES", "FieldError", "field_name", "normalize", "normalize_value",
           "validate_field", "validate_form", "vin_check_digit"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class FieldError:
    """One problem with one field (``field`` None: the form as a whole, e.g. an alternative)."""

    field: str | None
    message: str
    severity: Severity = "error"


_VIN_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ",
                       [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
                       strict=True))
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Titles and degrees NCIC does not want in a name.
_TITLES = {"MR", "MRS", "MS", "MISS", "DR", "REV", "FR", "SGT", "OFFICER", "SIR", "HON", "PROF",
           "PHD", "MD", "DDS", "DVM", "ESQ", "JD", "RN", "CPA", "MBA", "BA", "BS", "MA"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A field separator inside a value (". TAG/"): would split the value in two on the switch.
_SEPARATOR = re.compile(r"\.\s*[A-Z][A-Z0-9]{1,2}/")


def vin_check_digit(vin: str) -> str:
    """The check digit (position 9) a 17-character VIN should have: ``'0'``-``'9'`` or ``'X'``.

    Raises ``ValueError`` for anything but 17 letters and digits without I, O or Q."""
    vin = vin.strip().upper()
    if not re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", vin):
        raise ValueError("A VIN check digit needs 17 letters and digits (no I, O or Q).")
    total = sum((int(c) if c.isdigit() else _VIN_VALUES[c]) * w
                for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


# -- helpers -------------------------------------------------------------------------------------

def field_name(definition: FieldDef, *, lower: bool = False) -> str:
    """A field as people read it: ``Plate state (LIS)`` (``plate state (LIS)`` inside a
    sentence); a label that is the tag itself is not repeated: ``VIN``."""
    label = definition.label.strip()
    if not label or label == definition.tag:
        return definition.tag
    if f"({definition.tag})" in label:
        return label
    if lower and not label[:2].isupper():
        label = label[0].lower() + label[1:]
    return f"{label} ({definition.tag})"


class _Check:
    """What a rule needs: the field's definition, the value, the tables, today's date."""

    def __init__(self, definition: FieldDef, value: str, tables: CodeTables, today: date) -> None:
        self.field = definition
        self.tag = definition.tag
        self.value = value
        self.tables = tables
        self.today = today

    @property
    def name(self) -> str:
        """The field as people read it: ``Plate state (LIS)``."""
        return field_name(self.field)

    def error(self, text: str, severity: Severity = "error") -> list[FieldError]:
        return [FieldError(self.tag, f"{self.name} {text}", severity)]


Rule = Callable[[_Check], list[FieldError]]


def _pattern(regex: str, text: str) -> Rule:
    compiled = re.compile(regex)

    def rule(c: _Check) -> list[FieldError]:
        return [] if compiled.fullmatch(c.value) else c.error(text)

    return rule


# -- kind rules ----------------------------------------------------------------------------------

def _no_hyphen(c: _Check) -> list[FieldError]:
    if "-" in c.value and not c.field.allow_hyphen:
        example = c.value.replace("-", "")
        return c.error(f"cannot contain hyphens: the switch rejects them in inquiries "
                       f"(enter {example}).")
    return []


def rule_text(c: _Check) -> list[FieldError]:
    if _CONTROL.search(c.value):
        return c.error("contains control characters.")
    if "." in c.value or "/" in c.value:
        return c.error("cannot contain '.' or '/' (they separate message fields).")
    return _no_hyphen(c)


def rule_free_text(c: _Check) -> list[FieldError]:
    if _CONTROL.search(c.value):
        return c.error("contains control characters.")
    if _SEPARATOR.search(c.value):
        return c.error("cannot contain a period followed by a field tag (like '.NAM/'): the "
                       "switch would read it as a new field.")
    return []


def rule_name(c: _Check) -> list[FieldError]:
    value = c.value
    if len(value) > 30:
        return c.error(f"has {len(value)} characters: at most 30.")
    if "'" in value or "." in value:
        return c.error("must leave out apostrophes and periods (OBRIEN, not O'BRIEN).")
    if value.count(",") != 1:
        return c.error("must be LAST, FIRST MIDDLE SUFFIX: the last name, one comma, then the "
                       "first name.")
    last, first = (part.strip() for part in value.split(",", 1))
    if not last or not first:
        return c.error("must be LAST, FIRST MIDDLE SUFFIX: both a last and a first name.")
    if not re.fullmatch(r"[A-Z -]+", last + first):
        return c.error("may contain only letters, spaces, hyphens and the comma.")
    if not re.fullmatch(r"[A-Z]+(?:[ -][A-Z]+)*", last):
        return c.error("has a misplaced hyphen or space in the last name.")
    if "-" in first:
        return c.error("may have a hyphen only in the last name.")
    words = set(re.split(r"[ ,-]+", value)) & _TITLES
    if words:
        return c.error(f"must not include titles or degrees ({', '.join(sorted(words))}).")
    return []


def _parse_date(value: str, fmt: str, today: date) -> date | None:
    try:
        parsed = datetime.strptime(value, fmt).date()
    except ValueError:
        return None
    if fmt == "%m%d%y" and parsed > today:  # MMDDYY: the century that is not in the future
        parsed = parsed.replace(year=parsed.year - 100)
    return parsed


def rule_date(c: _Check) -> list[FieldError]:
    names = c.field.formats or ("CCYYMMDD",)
    shapes = " or ".join(names)
    fitting = [DATE_FORMATS[n] for n in names
               if len(c.value) == (8 if n == "CCYYMMDD" else 6)]
    if not c.value.isdigit() or not fitting:
        return c.error(f"must be a date as {shapes}.")
    parsed = next((d for fmt in fitting if (d := _parse_date(c.value, fmt, c.today))), None)
    if parsed is None:
        return c.error(f"is not a real date ({shapes}).")
    if parsed > c.today:
        return c.error("is in the future.")
    if parsed.year < 1900:
        return c.error("is before 1900.")
    return []


def rule_vin(c: _Check) -> list[FieldError]:
    value = c.value
    if not re.fullmatch(r"[A-Z0-9]+", value):
        return c.error("may contain only letters and digits (no spaces or hyphens).")
    bad = sorted(set(value) & set("IOQ"))
    if bad:
        return c.error(f"cannot contain {', '.join(bad)}: VINs never use I, O or Q "
                       "(read 1 and 0).")
    if len(value) < 17:
        return c.error(f"has {len(value)} characters: a 1981-or-later VIN has 17. Older and "
                       "foreign VINs are sent as typed.", "warning")
    if len(value) > 17:
        return c.error(f"has {len(value)} characters: a standard VIN has 17. Sent as typed.",
                       "warning")
    expected = vin_check_digit(value)
    if value[8] != expected:
        return c.error(f"check digit (9th character) is {value[8]}, expected {expected}: check "
                       "for a typo. Sent as typed if you go on.", "warning")
    return []


def rule_code(c: _Check) -> list[FieldError]:
    table_name = c.field.code_table or c.tag
    try:
        table = c.tables[table_name]
    except KeyError:
        return c.error(f"cannot be checked: there is no code table {table_name}.", "warning")
    if c.value not in table:
        what = "state" if table.name in ("LIS", "POB") else table.name
        return c.error(f"'{c.value}' is not an NCIC {what} code.")
    return []


def rule_ori(c: _Check) -> list[FieldError]:
    if not re.fullmatch(r"[A-Z0-9]{9}", c.value):
        return c.error("must be 9 letters and digits (MD1012600).")
    if c.value[:2] not in c.tables["LIS"]:
        return c.error(f"must start with a state code, not '{c.value[:2]}'.")
    return []


def rule_number(c: _Check) -> list[FieldError]:
    if c.value.isdigit() and c.value.isascii():
        return []
    return _no_hyphen(c) or c.error("must be digits only.")


def rule_choice(c: _Check) -> list[FieldError]:
    allowed = [choice.value for choice in c.field.choices]
    if allowed and c.value not in allowed:
        return c.error(f"must be one of {', '.join(allowed)}.")
    return []


def rule_height(c: _Check) -> list[FieldError]:
    if not re.fullmatch(r"[1-9]\d{2}", c.value) or int(c.value[1:]) > 11:
        return c.error("must be 3 digits: feet, then inches under 12 (511 = 5 ft 11 in).")
    return []


def rule_weight(c: _Check) -> list[FieldError]:
    if not re.fullmatch(r"\d{1,3}", c.value) or int(c.value) == 0:
        return c.error("must be the weight in pounds, 1 to 3 digits.")
    return []


KIND_RULES: dict[str, Rule] = {
    "text": rule_text,
    "free_text": rule_free_text,
    "name": rule_name,
    "date": rule_date,
    "vin": rule_vin,
    "code": rule_code,
    "ori": rule_ori,
    "number": rule_number,
    "choice": rule_choice,
    "nic": _pattern(r"[A-Z]\d{9}", "must be one letter and 9 digits (W123456789)."),
    "height": rule_height,
    "weight": rule_weight,
    "arn": _pattern(r"A?\d{8,9}", "must be an A-number: 8 or 9 digits, with or without a "
                                  "leading A."),
    "oln": _pattern(r"[A-Z0-9]{1,20}", "may contain only letters and digits, at most 20 (no "
                                       "spaces or hyphens)."),
}
assert set(KIND_RULES) == set(KINDS)


# -- tag rules: what a tag means in NCIC / Nlets, whatever form it is on -------------------------

def rule_mnu(c: _Check) -> list[FieldError]:
    match = re.fullmatch(r"([A-Z]{2})-([A-Z0-9]{1,12})", c.value)
    if not match:
        return c.error("must be a two-letter prefix, a hyphen, then the number (AR-123456789 "
                       "is an A-number).")
    if match.group(1) not in c.tables["MNU"]:
        return c.error(f"prefix '{match.group(1)}' is not an NCIC MNU code.")
    return []


def rule_year(c: _Check) -> list[FieldError]:
    if not re.fullmatch(r"\d{4}", c.value) or not 1900 <= int(c.value) <= c.today.year + 2:
        return c.error("must be a 4-digit year.")
    return []


TAG_RULES: dict[str, Rule] = {
    "LIC": _pattern(r"[A-Z0-9]{1,10}", "may contain only letters and digits, at most 10 (no "
                                       "spaces or hyphens)."),
    "MNU": rule_mnu,
    "SOC": _pattern(r"\d{9}", "must be 9 digits, without hyphens."),
    "FBI": _pattern(r"[A-Z0-9]{1,9}", "must be up to 9 letters and digits."),
    "SID": _pattern(r"[A-Z0-9]{1,10}", "must be up to 10 letters and digits."),
    "SER": _pattern(r"[A-Z0-9]{1,20}", "may contain only letters and digits, at most 20."),
    "OCA": _pattern(r"[A-Z0-9][A-Z0-9-]{0,19}", "may contain only letters, digits and hyphens, "
                                                "at most 20."),
    "LIY": rule_year,
    "VYR": rule_year,
    "PHN": _pattern(r"[0-9(][0-9 ()X-]{6,19}", "must be a phone number: digits, with spaces, "
                                              "hyphens, brackets or X for an extension."),
    "PHO": _pattern(r"[0-9(][0-9 ()X-]{6,19}", "must be a phone number: digits, with spaces, "
                                              "hyphens, brackets or X for an extension."),
    "CAL": _pattern(r"[A-Z0-9]{1,4}", "must be an NCIC caliber code (up to 4 characters)."),
}


# -- normalising and validating ------------------------------------------------------------------

def normalize_value(value: object) -> str:
    """One value as the switch wants it: upper case, runs of spaces as one, no leading or
    trailing spaces, no trailing period (the message must not end with one)."""
    text = " ".join(str(value if value is not None else "").split()).upper()
    return text.rstrip(". ").strip()


def normalize(form: FormDef, values: Mapping[str, object]) -> dict[str, str]:
    """The form's values upper-cased and stripped, blank ones left out, in the form's order.
    Tags that are not fields of the form are dropped (:func:`validate_form` reports them)."""
    cleaned = {str(k).strip().upper(): normalize_value(v) for k, v in values.items()}
    return {f.tag: cleaned[f.tag] for f in form.fields if cleaned.get(f.tag)}


def _check_field(definition: FieldDef, value: str, tables: CodeTables, today: date
                 ) -> list[FieldError]:
    check = _Check(definition, value, tables, today)
    found: list[FieldError] = []
    rules = [KIND_RULES[definition.kind]]
    if definition.kind not in ("choice", "code", "free_text"):
        tag_rule = TAG_RULES.get(definition.tag)
        if tag_rule is not None:
            rules.append(tag_rule)
    for rule in rules:
        problems = rule(check)
        found.extend(problems)
        if any(p.severity == "error" for p in problems):
            return found
    if definition.max_length and len(value) > definition.max_length:
        return check.error(f"is longer than {definition.max_length} characters.")
    if definition.pattern and not re.fullmatch(definition.pattern, value):
        found.extend(check.error(definition.pattern_help or "is not in the expected format."))
    return found


def validate_field(form: FormDef, tag: str, value: str, tables: CodeTables, *,
                   today: date | None = None) -> list[FieldError]:
    """The problems with one value of one field, for inline errors as the operator types.

    The value is upper-cased and stripped first; an empty value has no problems here (a missing
    required field is :func:`validate_form`'s business)."""
    tag = tag.strip().upper()
    try:
        definition = form.field(tag)
    except KeyError:
        return [FieldError(tag, f"{tag} is not a field of the {form.mke} form.")]
    value = normalize_value(value)
    if not value:
        return []
    return _check_field(definition, value, tables, today or date.today())


def _who(form: FormDef, tag: str) -> str:
    return field_name(form.field(tag), lower=True)


def _alternative_errors(form: FormDef, group: tuple[tuple[str, ...], ...],
                        clean: Mapping[str, str], context: str = "") -> list[FieldError]:
    """One error when none of the group's field sets is complete. ``context`` starts the
    sentence ("For request type (RTY) SV, ")."""
    if not group or any(all(clean.get(t) for t in option) for option in group):
        return []
    options = [" and ".join(_who(form, t) for t in option) for option in group]
    # When one option is half filled, say what it still needs. The error stays on the form
    # (field None): it is about several fields, and the widget shows it under the form.
    partial = [option for option in group if any(clean.get(t) for t in option)]
    if partial:
        option = max(partial, key=lambda o: sum(1 for t in o if clean.get(t)))
        missing = [t for t in option if not clean.get(t)]
        given = [t for t in option if clean.get(t)]
        others = [o for o, opt in zip(options, group, strict=True) if opt != option]
        text = (f"{context}enter {' and '.join(_who(form, t) for t in missing)} with "
                f"{' and '.join(_who(form, t) for t in given)}")
        text += ", or " + ", or ".join(others) + "." if others else "."
        return [FieldError(None, text[0].upper() + text[1:])]
    text = f"{context}enter " + ", or ".join(options) + "."
    return [FieldError(None, text[0].upper() + text[1:])]


def validate_form(form: FormDef, values: Mapping[str, object], tables: CodeTables, *,
                  today: date | None = None) -> list[FieldError]:
    """Every problem with a whole form: tags it does not have, alternative field sets none of
    which is complete ("Enter plate (LIC) and plate state (LIS), or VIN."), then in form order
    required fields left empty and every field rule. Warnings are included; only errors block
    sending."""
    today = today or date.today()
    known = {f.tag for f in form.fields}
    errors = [FieldError(str(tag), f"{tag} is not a field of the {form.mke} form.")
              for tag in values if str(tag).strip().upper() not in known]
    clean = normalize(form, values)
    for group in form.alternatives:
        errors.extend(_alternative_errors(form, group, clean))
    if form.alternatives_when is not None:
        selector = form.alternatives_when.field
        case = form.alternatives_when.cases.get(clean.get(selector, ""))
        for group in case or ():
            errors.extend(_alternative_errors(
                form, group, clean, f"For {_who(form, selector)} {clean[selector]}, "))
    for definition in form.fields:
        value = clean.get(definition.tag)
        if not value:
            if definition.required:
                errors.append(FieldError(definition.tag, f"{field_name(definition)} is required."))
            continue
        errors.extend(_check_field(definition, value, tables, today))
    return errors
