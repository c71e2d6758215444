"""The headline of a return (``mdt.core.headline``): what the officer reads first, decided from
the records and the text, and the same whether the gateway sent records or text alone."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

import pytest

from mdt.core.headline import Headline, HeadlineKind, decide, headline_of_event, headline_of_text
from mdt.core.returns import parse_return
from mock_server.returns import wrap_text
from mock_server.switch import Context, Switch
from mock_server.world import World
from tests.gateway.test_gateway_switch import ACCOUNTS, CONTRACT_QUERIES, IAQ_FIELDS, OFFICER
from tests.unit.test_core_returns import PERSON, STOLEN

DL_SUSPENDED = ("DR.MD1012600.VA\n\nMKE/DRIVER LICENSE\nNAM/FENRIX, AVERY D SEX/M RAC/B "
                "DOB/19950519\nOLN/S100000008 OLS/VA EXP/20280519 STA/SUSPENDED")
IAR_DETAINER = ("IAR.VTICE0900.MD1012600.TXT\n\nMKE/LESC STATUS\nNAM/ZANMIR, SOREN T SEX/M "
                "DOB/19790704\nARN/A200000002 CTZ/AA\nSTA/DEPORTED FELON DET/Y")


def test_a_hit_says_which_file_and_how_dangerous() -> None:
    stolen = headline_of_text(STOLEN)
    assert stolen == Headline(HeadlineKind.HIT, "HIT — STOLEN VEHICLE — ARMED AND DANGEROUS",
                              "danger", ("VEHICLE",), ())
    person = headline_of_text(PERSON)
    assert person.kind == HeadlineKind.HIT and person.files == ("WANTED", "IVF")
    assert person.text.startswith("HIT — WANTED PERSON + IMMIGRATION VIOLATOR (DEPORTED FELON)")
    plain = headline_of_text("MKE/STOLEN GUN\nSER/AB123 MAK/COL")
    assert (plain.text, plain.role) == ("HIT — STOLEN GUN", "hit")


def test_records_that_matter_though_not_hits() -> None:
    """Issue 16: "No record found." was shown over these."""
    licence = headline_of_text(DL_SUSPENDED)
    assert (licence.kind, licence.text, licence.role) == (
        HeadlineKind.NOTABLE, "RECORD — DRIVER LICENSE: SUSPENDED", "warning")
    iar = headline_of_text(IAR_DETAINER)
    assert iar.kind == HeadlineKind.NOTABLE and iar.reasons == ("DEPORTED FELON", "DETAINER")
    assert iar.text == "RECORD — LESC STATUS: DEPORTED FELON, DETAINER"
    for status in ("REVOKED", "CANCELLED", "DENIED", "EXPIRED"):
        assert headline_of_text(DL_SUSPENDED.replace("SUSPENDED", status)).reasons == (status,)


def test_the_narrative_can_make_a_record_matter_unless_it_says_no() -> None:
    base = "MKE/LESC STATUS\nNAM/ZANMIR, SOREN T DOB/19790704\n\n"
    said = headline_of_text(base + "SUBJECT IS A CITIZEN OF AA.\nICE WILL LODGE A DETAINER")
    assert said.kind == HeadlineKind.NOTABLE and said.reasons == ("DETAINER",)
    for negated in ("ICE WILL NOT LODGE A DETAINER AT THIS TIME.", "NO DETAINER LODGED."):
        assert headline_of_text(base + negated).kind == HeadlineKind.RECORDS


def test_nothing_notable_no_record_status_error_text_and_empty() -> None:
    valid = headline_of_text(DL_SUSPENDED.replace("SUSPENDED", "VALID"))
    assert (valid.kind, valid.text, valid.role) == (
        HeadlineKind.RECORDS, "RECORD — DRIVER LICENSE, nothing notable", "info")
    two = headline_of_text("MKE/REGISTRATION\nLIC/A\n\nMKE/REGISTRATION\nLIC/B")
    assert two.text == "2 RECORDS — REGISTRATION, nothing notable"
    none = headline_of_text("QV.MD1012600.NCIC\n\nNO NCIC WANT LIC/CLN1000 LIS/MD")
    assert (none.kind, none.text, none.role) == (
        HeadlineKind.NO_RECORD, "No record — NO NCIC WANT LIC/CLN1000 LIS/MD", "clear")
    error = headline_of_text("QV.MD1012600.NCIC\n\nREJECT/FIELD LIS INVALID")
    assert (error.kind, error.text) == (HeadlineKind.ERROR, "Rejected — FIELD LIS INVALID")
    status = headline_of_text("STATUS/DESTINATION VA DOWN - WILL FORWARD")
    assert (status.kind, status.text) == (HeadlineKind.STATUS,
                                          "Switch status — DESTINATION VA DOWN - WILL FORWARD")
    assert headline_of_text("GARBLED LINE HERE").kind == HeadlineKind.TEXT
    assert headline_of_text("").kind == HeadlineKind.EMPTY
    assert headline_of_text(None).kind == HeadlineKind.EMPTY  # type: ignore[arg-type]


def test_status_events() -> None:
    down = headline_of_event({"type": "status", "status": "destination_down",
                              "text": "STATUS/DESTINATION VA DOWN - WILL FORWARD"})
    assert down.kind == HeadlineKind.STATUS
    rejected = headline_of_event({"type": "status", "status": "rejected",
                                  "text": "REJECT/QV NEEDS LIC AND LIS, OR VIN"})
    assert rejected.text == "Rejected — QV NEEDS LIC AND LIS, OR VIN"
    assert headline_of_event({"type": "status", "status": "will_forward"}).text == \
        "Switch status — will forward"


def test_records_and_text_give_the_same_headline() -> None:
    for text in (STOLEN, PERSON, DL_SUSPENDED, IAR_DETAINER):
        records = [r.to_dict() for r in parse_return(text).records]
        assert decide(records, text) == headline_of_text(text)
        assert headline_of_event({"type": "response", "records": records, "text": text}) == \
            headline_of_event({"type": "response", "text": text})


def test_narrative_only_in_the_text_still_counts_beside_structured_records() -> None:
    text = IAR_DETAINER.replace("DET/Y", "DET/N") + "\n\nICE WILL LODGE A DETAINER"
    records = [r.to_dict() for r in parse_return(text).records]
    for record in records:
        record.pop("narrative", None)  # a gateway that does not send it
    assert decide(records, text) == headline_of_text(text)
    assert "DETAINER" in decide(records, text).reasons


# -- the training gateway's every return, with records, as text, and cut at 64 and 80 columns ---
ZANMIR_IAQ = ("IAQ", IAQ_FIELDS | {"NAM": "ZANMIR, SOREN T", "DOB": "19790704", "SEX": "M",
                                   "CUS": "Y"}, ["AX"], "C")
FENRIX_DQ = ("DQ", {"OLN": "S100000008"}, ["VA"], None)


def _responses(mke: str, fields: dict[str, str], dest: list[str] | None,
               purpose: str | None) -> list[dict[str, Any]]:
    switch = Switch(World(1), latency=0.0, iar_delay=0.0, seed=1)
    message = {"id": str(uuid.uuid4()), "mke": mke, "dest": dest or ["NCIC"], "fields": fields,
               "purpose": purpose}
    ctx = Context(accounts=ACCOUNTS, find_confirmation=lambda *_a: None, now=1_800_000_000.0)
    return [d.body for d in switch.route(message, OFFICER, ctx).deliveries
            if d.body["type"] in ("response", "status")]


@pytest.mark.parametrize(("mke", "fields", "dest", "purpose"),
                         [*CONTRACT_QUERIES, ZANMIR_IAQ, FENRIX_DQ],
                         ids=[f"{q[0]}-{next(iter(q[1].values()))}"
                              for q in [*CONTRACT_QUERIES, ZANMIR_IAQ, FENRIX_DQ]])
def test_the_gateways_returns_have_one_headline_either_way(
        mke: str, fields: dict[str, str], dest: list[str] | None, purpose: str | None) -> None:
    for event in _responses(mke, fields, dest, purpose):
        expected = headline_of_event(event)
        text_only = {k: v for k, v in event.items() if k != "records"}
        assert headline_of_event(text_only) == expected
        for width in (64, 80):
            assert headline_of_event({**text_only, "text": wrap_text(event["text"], width)}) \
                == expected, width


def test_the_detainer_iar_and_the_suspended_licence_from_the_gateway() -> None:
    (iar,) = [e for e in _responses(*ZANMIR_IAQ) if e.get("mke") == "IAR"]
    headline = headline_of_event({k: v for k, v in iar.items() if k != "records"})
    assert headline.kind == HeadlineKind.NOTABLE
    assert headline.reasons == ("DEPORTED FELON", "DETAINER")
    (dr,) = _responses(*FENRIX_DQ)
    assert headline_of_event(dr).text == "RECORD — DRIVER LICENSE: SUSPENDED"


def test_the_headline_module_needs_no_qt() -> None:
    code = ("import sys, mdt.core.headline; "
            "sys.exit(any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_a_headline_is_one_line_however_long_the_status() -> None:
    headline = headline_of_text("NO RECORD\n" + "MORE WORDS\n" * 5000)
    assert headline.kind == HeadlineKind.NO_RECORD and len(headline.text) <= 175
    assert headline.text.endswith("…")


def test_a_record_that_is_not_a_hit_is_not_named_for_one() -> None:
    """Issue 16: ``mdt show`` said "STOLEN VEHICLE, nothing notable" for any VEHICLE-file
    record that was not a hit."""
    cleared = {"file": "VEHICLE", "hit": False, "fields": {"LIC": "CLN1000", "LIS": "MD"}}
    headline = decide([cleared], "")
    assert (headline.kind, headline.text, headline.role) == (
        HeadlineKind.RECORDS, "RECORD — VEHICLE RECORD, nothing notable", "info")
    assert "STOLEN" not in headline.text
    person = decide([{"file": "WANTED", "hit": False, "fields": {"STA": "REVOKED"}}], "")
    assert person.text == "RECORD — PERSON RECORD: REVOKED"
    assert decide([{"file": "VEHICLE", "hit": True}], "").text == "HIT — STOLEN VEHICLE"


@pytest.mark.parametrize(("text", "short"), [
    ("QV.MD1012600.NCIC\n\nNO NCIC WANT LIC/CLN1000 LIS/MD", "No record"),
    ("QV.MD1012600.NCIC\n\nREJECT/FIELD LIS INVALID", "Rejected"),
    ("STATUS/DESTINATION VA DOWN - WILL FORWARD", "Switch status"),
    (DL_SUSPENDED, "RECORD — DRIVER LICENSE: SUSPENDED"),
    (STOLEN, "HIT — STOLEN VEHICLE — ARMED AND DANGEROUS")])
def test_the_short_headline_for_a_list_cell(text: str, short: str) -> None:
    assert headline_of_text(text).short == short
