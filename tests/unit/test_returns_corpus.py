"""The return corpus (``tests/data/returns/``): texts written from the public Nlets and NCIC
formats — every return the forms can ask for, status and error messages, several records, text
cut at 80 and 64 columns mid-value, lower case, CRLF and control characters — each read to the
parse in the JSON file beside it, with its headline, the same from the text as from the records.

After a deliberate change to the parser, ``python -m tests.unit.test_returns_corpus`` writes the
JSON files again: read the diff before committing it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mdt.core.headline import decide, headline_of_text
from mdt.core.returns import parse_return

CORPUS = Path(__file__).resolve().parents[1] / "data" / "returns"
TEXTS = sorted(CORPUS.glob("*.txt"))


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def observed(text: str) -> dict[str, Any]:
    """What a return reads to: everything the parser gives, and its headline."""
    parsed = parse_return(text)
    return {
        "kind": parsed.kind, "hit": parsed.hit,
        "header": list(parsed.header) if parsed.header else None, "headers": parsed.headers,
        "control": parsed.control, "wrap_width": parsed.wrap_width,
        "caveats": parsed.caveats, "narrative": parsed.narrative,
        "status_text": parsed.status_text, "warnings": parsed.warnings,
        "records": [{"title": r.title, **r.to_dict()} for r in parsed.records],
        "headline": headline_of_text(text).to_dict(),
    }


def test_the_corpus_is_big_enough_and_complete() -> None:
    names = {p.stem for p in TEXTS}
    print(f"\n{len(TEXTS)} return texts in {CORPUS}")
    assert len(TEXTS) >= 40
    assert {p.stem for p in CORPUS.glob("*.json")} == names  # an expected parse beside each
    for kind in ("qv_", "qw_", "qw_ivf_", "qw_protection", "dq_", "rq_", "qh_", "qr_", "qg_",
                 "iar_", "status_", "reject_", "error_"):
        assert any(n.startswith(kind) for n in names), kind
    assert sum(n.endswith("_wrapped80") for n in names) >= 5
    assert sum("_wrapped64" in n for n in names) >= 5


@pytest.mark.parametrize("path", TEXTS, ids=[p.stem for p in TEXTS])
def test_each_text_reads_to_its_expected_parse(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert observed(read(path)) == expected


@pytest.mark.parametrize("path", TEXTS, ids=[p.stem for p in TEXTS])
def test_the_headline_is_the_same_from_the_records(path: Path) -> None:
    text = read(path)
    records = [r.to_dict() for r in parse_return(text).records]
    assert decide(records, text) == headline_of_text(text)


WRAPPED = [p for p in TEXTS if "_wrapped" in p.stem]


@pytest.mark.parametrize("path", WRAPPED, ids=[p.stem for p in WRAPPED])
def test_text_cut_at_the_width_reads_as_the_uncut_text(path: Path) -> None:
    original = CORPUS / f"{path.stem.split('_wrapped')[0]}.txt"
    cut, whole = parse_return(read(path)), parse_return(read(original))
    assert [r.to_dict() for r in cut.records] == [r.to_dict() for r in whole.records]
    assert (cut.caveats, cut.narrative, cut.status_text, cut.header) == \
        (whole.caveats, whole.narrative, whole.status_text, whole.header)
    assert cut.warnings == whole.warnings == []
    assert cut.wrap_width == int(path.stem.split("_wrapped")[1][:2])


NOISY = {"lower_case_stolen_vehicle": "qv_stolen_vehicle",
         "control_chars_wanted": "qw_wanted_caution",
         "crlf_spaces_registration": "rq_registration",
         "iar_detainer_wrapped64_lower_crlf": "iar_detainer",
         "qv_stolen_vehicle_vin_broken": "qv_stolen_vehicle"}


@pytest.mark.parametrize(("noisy", "clean"), NOISY.items())
def test_noise_reads_as_the_clean_text(noisy: str, clean: str) -> None:
    got = parse_return(read(CORPUS / f"{noisy}.txt"))
    want = parse_return(read(CORPUS / f"{clean}.txt"))
    strip = ("caution_codes",) if noisy == "qv_stolen_vehicle_vin_broken" else ()
    assert [{k: v for k, v in r.to_dict().items() if k not in strip} for r in got.records] == \
        [{k: v for k, v in r.to_dict().items() if k not in strip} for r in want.records]


def test_what_the_issue_saw() -> None:
    """The VIN joined without a space; the IAR's narrative kept whole, out of ARN."""
    (vehicle,) = parse_return(read(CORPUS / "qv_stolen_vehicle_vin_broken.txt")).records
    assert vehicle.fields["VIN"] == "1G4AH59H45G118341"
    (lesc,) = parse_return(read(CORPUS / "iar_narrative_under_arn.txt")).records
    assert lesc.fields["ARN"] == "A200000002"
    assert lesc.narrative[-1] == "ICE WILL LODGE A DETAINER"
    assert headline_of_text(read(CORPUS / "iar_detainer_wrapped80.txt")).reasons == (
        "DEPORTED FELON", "DETAINER")


if __name__ == "__main__":  # write the expected parses again (then read the diff)
    for path in TEXTS:
        path.with_suffix(".json").write_text(
            json.dumps(observed(read(path)), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8")
    print(f"wrote {len(TEXTS)} expected parses", file=sys.stderr)
