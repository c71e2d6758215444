"""Property tests: the field rules and the definition reader never fail in an unplanned way,
and a form that validates always builds a message that reads back the same."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mdt.core.codes import CodeTables
from mdt.core.forms import KEYS, FormDef, FormDefinitionError, FormInvalid, load_form
from mdt.core.message import OperatorProfile, build_message, decode_text
from mdt.core.rules import normalize, normalize_value, validate_field, validate_form

TABLES = CodeTables.default()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = [(mke, f.tag) for mke in KEYS for f in load_form(mke).fields]
OPERATOR = OperatorProfile(user_id="u", name="TESS TRAINEE", ori="MD1012600", atn="TRAINEE",
                           phn="4105550100")


@FAST
@given(st.sampled_from(FIELDS), st.text(max_size=40))
def test_validate_field_never_raises_and_always_names_the_field(field: tuple[str, str],
                                                                value: str) -> None:
    mke, tag = field
    for error in validate_field(load_form(mke), tag, value, TABLES):
        assert error.field == tag and error.severity in ("error", "warning")
        assert f"({tag})" in error.message or error.message.startswith(tag)


@FAST
@given(st.text(max_size=40))
def test_normalize_is_idempotent(value: str) -> None:
    once = normalize_value(value)
    assert normalize_value(once) == once
    assert once == once.upper().strip() and not once.endswith(".")


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 30) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6),
                                                                      children, max_size=3),
    max_leaves=8)


@FAST
@given(st.sampled_from(KEYS), st.data())
def test_a_mangled_definition_is_read_or_refused_clearly(mke: str, data: st.DataObject) -> None:
    """A gateway may serve anything: the reader gives a form or a FormDefinitionError, nothing
    else."""
    definition: Any = copy.deepcopy(load_form(mke).to_dict())
    for _ in range(data.draw(st.integers(1, 3))):
        target = definition
        fields = definition.get("fields")
        if isinstance(fields, list) and fields and data.draw(st.booleans()):
            target = data.draw(st.sampled_from(fields))
        if not isinstance(target, dict) or not target:
            break
        key = data.draw(st.sampled_from(sorted(target)))
        if data.draw(st.booleans()):
            target[key] = data.draw(JSONISH)
        else:
            del target[key]
    try:
        form = FormDef.from_dict(definition)
    except FormDefinitionError as exc:
        assert str(exc)
        return
    assert FormDef.from_dict(form.to_dict()) == form


@FAST
@given(st.sampled_from(KEYS), st.data())
def test_a_form_that_validates_builds_a_message_that_reads_back(mke: str,
                                                                data: st.DataObject) -> None:
    form = load_form(mke)
    values = {f.tag: data.draw(st.sampled_from(SAMPLE_VALUES.get(f.tag, [""])))
              for f in form.fields}
    dest = {"DQ": ["VA"], "RQ": ["VA"], "YQ": ["VA0290000"], "YR": ["VA0290000"],
            "AM": ["VA0290000"]}.get(mke)
    filled = {**form.initial_values(OPERATOR.defaults()), **{k: v for k, v in values.items()
                                                            if v}}
    problems = [e for e in validate_form(form, filled, TABLES) if e.severity == "error"]
    try:
        message = build_message(form, values, OPERATOR, dest=dest)
    except FormInvalid as exc:
        assert problems and exc.errors
        return
    assert not problems
    assume(mke != "AM")
    _, _, sent_dest, fields = decode_text(message["text"])
    fields.pop("PUR", None)
    assert fields == message["fields"] == normalize(form, filled)
    assert sent_dest == message["dest"]


# A few good and bad values per tag, for the builder property above.
SAMPLE_VALUES: dict[str, list[str]] = {
    "NAM": ["", "DOE, JOHN", "DOE JOHN", "o'neil, pat"],
    "DOB": ["", "19800101", "19801301", "010180"],
    "SEX": ["", "M", "X"], "RAC": ["", "W", "Q"], "FBI": ["", "T00002A"],
    "SOC": ["", "123456789", "123-45-6789"], "OLN": ["", "S100000002"], "OLS": ["", "NB", "NE"],
    "MNU": ["", "AR-200000002", "ZZ-1"], "LIC": ["", "TRN4821", "TRN-4821"],
    "LIS": ["", "VA", "ZZ"], "LIY": ["", "2027"], "LIT": ["", "PC", "QQ"],
    "VIN": ["", "1G4AH59H45G118341", "1G4AH59H55G118341", "3P29S123456"],
    "VYR": ["", "2005"], "VMA": ["", "BUIC"], "SER": ["", "AB12345"], "MAK": ["", "COL"],
    "CAL": ["", "357"], "TYP": ["", "P"], "ATN": ["", "TRAINEE, TESS"],
    "PHN": ["", "410-555-0100"], "PHO": ["", "4105550100"], "POB": ["", "MX"],
    "CUS": ["", "Y", "N"], "OFF": ["", "0399"], "ARN": ["", "A200000002"], "SID": ["", "MD1"],
    "REM": ["", "CALL FIRST"], "IMQ": ["", "Y"], "RTY": ["", "WP", "SV", "SG"],
    "RNO": ["", "1", "3"], "PRI": ["", "U", "R"], "OCA": ["", "26-004512"],
    "NIC": ["", "W123456789"], "RNA": ["", "TRAINEE"], "CST": ["", "Y", "T"],
    "CTM": ["", "1430"], "TXT": ["", "CALL DISPATCH"],
}
