"""Forms as data: every key of the domain has a definition that loads, carries what the domain
requires, survives a round trip through JSON, and a broken definition (as a gateway might serve)
is refused with a sentence saying what is wrong."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mdt.core.codes import CodeTables
from mdt.core.forms import (
    DEFAULT_FROM,
    KEYS,
    KINDS,
    Choice,
    Destination,
    FormDef,
    FormDefinitionError,
    FormSet,
    all_forms,
    destination,
    load_form,
)
from mdt.paths import resources_dir

TABLES = CodeTables.default()

# domain.md's table: the fields every key must offer, and which are required on their own.
DOMAIN: dict[str, tuple[set[str], set[str]]] = {
    "QW": ({"NAM", "DOB", "FBI", "SOC", "OLN", "OLS", "MNU", "SEX", "RAC"}, set()),
    "QV": ({"LIC", "LIS", "VIN", "LIY", "LIT"}, set()),
    "DQ": ({"OLN", "NAM", "DOB", "SEX", "IMQ"}, set()),
    "RQ": ({"LIC", "LIY", "LIT", "VIN"}, set()),
    "IAQ": ({"ATN", "PHN", "NAM", "DOB", "SEX", "POB", "CUS", "OFF", "ARN", "FBI", "SID", "OLN",
             "OLS", "SOC", "REM"}, {"ATN", "PHN", "NAM", "DOB", "SEX", "POB", "CUS", "OFF"}),
    "QH": ({"NAM", "DOB", "SEX", "RAC", "SOC"}, {"NAM", "DOB", "SEX", "RAC"}),
    "QR": ({"FBI", "SID", "ATN"}, set()),
    "QG": ({"SER", "MAK", "CAL", "TYP"}, {"SER"}),
    "YQ": ({"RTY", "RNO", "PRI", "OCA", "NIC", "NAM", "DOB", "SEX", "LIC", "LIS", "LIY", "LIT",
            "VIN", "VYR", "VMA", "SER", "MAK", "CAL", "TYP", "RNA", "PHO", "REM"},
           {"RTY", "RNO", "PRI", "OCA", "NIC"}),
    "YR": ({"RTY", "RNO", "OCA", "NIC", "REM"}, {"RTY", "RNO", "OCA", "NIC"}),
    "AM": ({"TXT"}, {"TXT"}),
}


def test_every_key_in_the_domain_has_a_form() -> None:
    assert [f.mke for f in all_forms()] == list(KEYS) == list(DOMAIN)
    assert {p.stem for p in (resources_dir() / "forms").glob("*.json")} == set(KEYS)


def test_forms_are_cached() -> None:
    assert load_form("QV") is load_form("qv") is all_forms()[1]
    assert all_forms() is not all_forms()  # a fresh list, the same definitions
    assert all_forms()[0] is all_forms()[0]


@pytest.mark.parametrize("mke", KEYS)
def test_each_form_carries_the_domain_fields(mke: str) -> None:
    form = load_form(mke)
    offered, required = DOMAIN[mke]
    assert offered <= set(form.tags)
    assert required <= {f.tag for f in form.fields if f.required}
    assert form.title and form.description
    for f in form.fields:
        assert f.kind in KINDS and f.label and f.max_length
        assert (f.kind == "code") == bool(f.code_table)
        assert (f.kind == "choice") == bool(f.choices)
        if f.code_table:
            assert f.code_table in TABLES, f"{mke}.{f.tag}: no table {f.code_table}"
        assert f.default_from is None or f.default_from in DEFAULT_FROM


def test_alternatives_follow_the_domain() -> None:
    assert load_form("QV").alternatives == ((("LIC", "LIS"), ("VIN",)),)
    assert load_form("QW").alternatives == (
        (("NAM", "DOB"), ("FBI",), ("SOC",), ("OLN", "OLS"), ("MNU",)),)
    assert load_form("DQ").alternatives == ((("OLN",), ("NAM", "DOB", "SEX")),)
    assert load_form("RQ").alternatives == ((("LIC",), ("VIN",)),)
    assert load_form("QR").alternatives == ((("FBI",), ("SID",)),)
    assert load_form("QG").alternatives == ((("MAK",), ("CAL",), ("TYP",)),)
    when = load_form("YQ").alternatives_when
    assert when is not None and when.field == "RTY"
    assert when.cases["WP"] == ((("NAM", "DOB"),),)
    assert when.cases["SV"] == ((("LIC", "LIS"), ("VIN",)),)
    assert when.cases["SG"] == ((("SER",),),)
    rty = {c.value for c in load_form("YQ").field("RTY").choices}
    assert rty == {"WP", "SV", "SL", "SG", "SA", "SB", "SP", "SS", "PO", "MP"} == set(when.cases)


def test_destinations_purposes_and_keys() -> None:
    qv = load_form("QV")
    assert qv.destination == destination(kind="fixed", default="NCIC",
                                         help="NCIC (FBI national files).")
    assert qv.destination["kind"] == "fixed" and qv.destination.get("default") == "NCIC"
    assert qv.function_key == "F5"
    dq = load_form("DQ").destination
    assert (dq["kind"], dq["max"], [s.value for s in dq["special"]]) == ("states", 5, ["NL"])
    assert dq["special"][0] == {"value": "NL", "label": "All states (Nlets multi-state)"}
    assert load_form("RQ").destination["kind"] == "state"
    assert load_form("IAQ").destination["default"] == "AX"
    yq = load_form("YQ").destination
    assert (yq["kind"], yq["max"], yq["required"]) == ("ori", 3, True)
    assert load_form("AM").destination["kind"] == "ori"
    assert [c.value for c in load_form("IAQ").purpose_codes] == ["C", "F"]
    assert load_form("QH").purpose_codes and load_form("QR").purpose_codes
    assert not load_form("QV").purpose_codes
    assert load_form("IAQ").purpose_codes[0]["label"] == "Criminal justice"


def test_yq_starts_a_clock_and_yr_is_a_template() -> None:
    confirm = load_form("YQ").confirm_by
    assert confirm is not None and confirm.field == "PRI"
    assert dict(confirm.minutes) == {"U": 10, "R": 60}
    assert confirm["field"] == "PRI" and set(confirm) == {"field", "minutes"}
    assert load_form("YR").template and not load_form("YQ").template
    assert load_form("YR").field("CST").choices == (
        Choice("Y", "Confirmed: the record is valid"), Choice("N", "Not confirmed"),
        Choice("T", "Confirmation will come by a time"))


def test_iaq_takes_both_date_forms_and_defaults_from_the_operator() -> None:
    iaq = load_form("IAQ")
    assert iaq.field("DOB").formats == ("CCYYMMDD", "MMDDYY")
    assert load_form("QW").field("DOB").formats == ()  # CCYYMMDD only
    assert iaq.field("ATN").default_from == "atn" and iaq.field("PHN").default_from == "phn"
    assert iaq.field("OFF").default == "0399"
    profile = {"atn": "Trainee, Tess", "phn": "410-555-0100", "ori": "MD1012600"}
    assert iaq.initial_values(profile) == {"ATN": "TRAINEE, TESS", "PHN": "410-555-0100",
                                           "OFF": "0399"}
    assert load_form("QV").initial_values({"state": "MD"}) == {"LIS": "MD"}
    assert load_form("QV").initial_values() == {}


@pytest.mark.parametrize("mke", KEYS)
def test_a_definition_survives_a_round_trip_through_json(mke: str) -> None:
    form = load_form(mke)
    again = FormDef.from_dict(json.loads(json.dumps(form.to_dict())))
    assert again == form
    assert hash(again) == hash(form)


def test_field_lookup() -> None:
    form = load_form("QV")
    assert form.field("lic").label == "Plate"
    with pytest.raises(KeyError):
        form.field("NAM")


# -- broken definitions --------------------------------------------------------------------------

def _qv() -> dict[str, Any]:
    return copy.deepcopy(load_form("QV").to_dict())


def _broken(change: Any) -> dict[str, Any]:
    data = _qv()
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.pop("mke"), "'mke' is missing"),
        (lambda d: d.update(mke="Q-V"), "message key"),
        (lambda d: d.pop("title"), "'title' is missing"),
        (lambda d: d.update(title=""), "'title' is empty"),
        (lambda d: d.update(fields=[]), "non-empty list"),
        (lambda d: d.update(schema=99), "schema 99"),
        (lambda d: d.update(schema="1"), "'schema' must be a number"),
        (lambda d: d.update(colour="red"), "unknown key(s) 'colour'"),
        (lambda d: d["fields"][0].update(kind="telepathy"), "field LIC: unknown kind"),
        (lambda d: d["fields"][0].update(kind="plate"), "unknown kind 'plate'"),
        (lambda d: d["fields"][0].pop("tag"), "field 1: 'tag' is missing"),
        (lambda d: d["fields"][0].update(tag="lic plate"), "tag 'LIC PLATE'"),
        (lambda d: d["fields"][0].pop("label"), "'label' is missing"),
        (lambda d: d["fields"][0].update(requried=True), "unknown key(s) 'requried'"),
        (lambda d: d["fields"][0].update(required="yes"), "'required' must be true or false"),
        (lambda d: d["fields"][0].update(max_length=0), "'max_length' must be a whole number"),
        (lambda d: d["fields"][0].update(max_length="10"), "'max_length'"),
        (lambda d: d["fields"][1].pop("code_table"), "must name its code_table"),
        (lambda d: d["fields"][0].update(kind="choice"), "must list its choices"),
        (lambda d: d["fields"][0].update(kind="choice", choices=[{"label": "x"}]),
         "'value' is missing"),
        (lambda d: d["fields"][0].update(kind="choice", choices=[{"value": "A"}, {"value": "a"}]),
         "repeats a value"),
        (lambda d: d["fields"][0].update(kind="choice", choices=[{"value": "A"}], default="B"),
         "not one of its choices"),
        (lambda d: d["fields"][0].update(default_from="badge"), "not a profile key"),
        (lambda d: d["fields"][0].update(default=7), "'default' must be text"),
        (lambda d: d["fields"][0].update(formats=["CCYYMMDD"]), "for date fields"),
        (lambda d: d["fields"][0].update(pattern="([A-Z"), "not a regular expression"),
        (lambda d: d["fields"][0].update(untagged=True), "only the last field"),
        (lambda d: d["fields"].append(dict(d["fields"][0])), "LIC appear more than once"),
        (lambda d: d.update(alternatives=[[["LIC", "ZZZ"]]]), "unknown fields ZZZ"),
        (lambda d: d.update(alternatives=["LIC"]), "list of groups"),
        (lambda d: d.update(alternatives=[[[]]]), "list of groups"),
        (lambda d: d["destination"].update(kind="moon"), "destination: unknown kind 'moon'"),
        (lambda d: d["destination"].update(default=""), "needs its default"),
        (lambda d: d["destination"].update(max=3), "max must be 1"),
        (lambda d: d.update(function_key="F13"), "function_key 'F13'"),
        (lambda d: d.update(purpose_codes="C"), "'purpose_codes' must be a list"),
        (lambda d: d.update(confirm_by={"field": "LIC", "minutes": {"U": 10}}),
         "must name a choice field"),
        (lambda d: d.update(alternatives_when={"field": "VIN", "cases": {}}),
         "must name a choice field"),
    ],
)
def test_a_broken_definition_says_what_is_wrong(change: Any, words: str) -> None:
    with pytest.raises(FormDefinitionError) as info:
        FormDef.from_dict(_broken(change))
    assert words in str(info.value)
    assert str(info.value).startswith(("form QV", "form definition"))


def test_definitions_that_are_not_objects() -> None:
    for data in (None, [], "QV", 3):
        with pytest.raises(FormDefinitionError, match="must be an object"):
            FormDef.from_dict(data)
    with pytest.raises(FormDefinitionError, match="field 1: the field must be an object"):
        FormDef.from_dict({"mke": "QX", "title": "x", "fields": ["LIC"]})


def test_confirm_by_and_alternatives_when_are_checked() -> None:
    yq = load_form("YQ").to_dict()
    yq["confirm_by"] = {"field": "PRI", "minutes": {"X": 5}}
    with pytest.raises(FormDefinitionError, match=r"map values of PRI \(R, U\)"):
        FormDef.from_dict(yq)
    yq = load_form("YQ").to_dict()
    yq["alternatives_when"]["cases"]["WP"] = [[["NAM", "HAT"]]]
    with pytest.raises(FormDefinitionError, match=r"alternatives_when\.cases\.WP' names unknown"):
        FormDef.from_dict(yq)


def test_a_minimal_definition_gets_defaults_and_extensions_are_ignored() -> None:
    form = FormDef.from_dict({"mke": "qx", "title": "Test", "x_agency": "ours",
                              "fields": [{"tag": "aaa", "label": "A", "kind": "text"}]})
    assert form.mke == "QX" and form.fields[0].tag == "AAA"
    assert form.destination == destination(kind="fixed", default="NCIC")
    assert set(form.destination) == set(Destination.__annotations__)
    assert form.alternatives == () and form.purpose_codes == () and not form.template
    assert form.fields[0].required is False and form.fields[0].max_length is None


def test_served_forms_override_shipped_ones_or_are_refused() -> None:
    qv = _qv()
    qv["title"] = "Vehicle (agency edition)"
    new = {"mke": "ZQ", "title": "New key", "fields": [{"tag": "AAA", "label": "A",
                                                        "kind": "text"}]}
    forms = FormSet.with_served({"forms": [qv, new]})
    assert forms.source == "gateway" and forms.get("qv").title == "Vehicle (agency edition)"
    assert [f.mke for f in forms.all()] == [*KEYS, "ZQ"]
    assert FormSet.shipped().get("QV").title == "Vehicle (NCIC)"
    with pytest.raises(FormDefinitionError, match="no form for message key 'XX'"):
        forms.get("XX")
    with pytest.raises(FormDefinitionError, match="not a list"):
        FormSet.with_served({"forms": "QV"})
    with pytest.raises(FormDefinitionError, match="unknown kind"):
        FormSet.with_served({"forms": [_broken(lambda d: d["fields"][0].update(kind="x"))]})


def test_an_unknown_key_has_no_form() -> None:
    with pytest.raises(FormDefinitionError, match="no form for message key 'ZZ'"):
        load_form("ZZ")
    with pytest.raises(FormDefinitionError, match="no form"):
        load_form("../codes/SEX")


def test_choices_read_like_the_json_and_cannot_change() -> None:
    choice = load_form("IAQ").purpose_codes[0]
    assert choice == {"value": "C", "label": "Criminal justice"} and isinstance(choice, dict)
    assert (choice.value, choice["label"]) == ("C", "Criminal justice")
    assert json.loads(json.dumps(choice)) == choice
    assert copy.deepcopy(choice) == choice and hash(copy.copy(choice)) == hash(choice)
    with pytest.raises(TypeError, match="read-only"):
        choice["value"] = "F"
    with pytest.raises(TypeError, match="read-only"):
        choice.update(value="F")


def test_rules_and_the_schema_do_not_import_the_loader() -> None:
    import subprocess
    import sys

    code = ("import sys, mdt.core.rules, mdt.core.form_schema\n"
            "assert 'mdt.core.forms' not in sys.modules, 'rules imports forms'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_loader_reads_its_own_folder_once(tmp_path: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from mdt.core.forms import FormLoader, load_forms_dir, read_form_file

    qv = _qv()
    qv["title"] = "Vehicle (agency edition)"
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "QV.json").write_text(json.dumps(qv), encoding="utf-8")
    (tmp_path / "forms" / "ZQ.json").write_text(json.dumps(
        {"mke": "ZQ", "title": "New", "fields": [{"tag": "AAA", "label": "A", "kind": "text"}]}),
        encoding="utf-8")
    loader = FormLoader(tmp_path / "forms")
    assert loader.keys() == ["QV", "ZQ"] and loader.get("qv") is loader.get("QV")
    assert loader.get("QV").title == "Vehicle (agency edition)"
    assert list(load_forms_dir(tmp_path / "forms")) == ["QV", "ZQ"]
    assert read_form_file(tmp_path / "forms" / "ZQ.json").mke == "ZQ"
    # MDT_RESOURCES_DIR moves the shipped forms: the module's loader follows, per folder
    monkeypatch.setenv("MDT_RESOURCES_DIR", str(tmp_path))
    assert load_form("QV").title == "Vehicle (agency edition)"
    monkeypatch.delenv("MDT_RESOURCES_DIR")
    assert load_form("QV").title == "Vehicle (NCIC)"


def test_a_file_that_is_not_a_definition_is_named(tmp_path: Any) -> None:
    from mdt.core.forms import FormLoader

    (tmp_path / "QV.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "QW.json").write_text(json.dumps(_qv()), encoding="utf-8")
    with pytest.raises(FormDefinitionError, match=r"QV\.json cannot be read"):
        FormLoader(tmp_path).get("QV")
    with pytest.raises(FormDefinitionError, match=r"QW\.json defines QV, not QW"):
        FormLoader(tmp_path).get("QW")
