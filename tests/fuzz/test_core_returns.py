"""Property tests: the return parser never raises, whatever it is given; what is encoded reads
back the same; and every ``TAG/value`` pair, caveat and line of narrative of a generated return
comes back on its record, without a warning, however the switch cut its lines."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdt.core.headline import decide, headline_of_text
from mdt.core.message import decode_text, encode_text
from mdt.core.returns import FILE_FOR_TITLE, ParsedReturn, ReturnRecord, parse_return
from mock_server.returns import wrap_text
from tests.unit.test_core_returns import PERSON, STOLEN

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _consistent(parsed: ParsedReturn) -> None:
    assert parsed.kind in ("records", "no_record", "status", "error", "text", "empty")
    assert (parsed.kind == "records") == bool(parsed.records)
    assert parsed.hit == any(r.hit for r in parsed.records)
    for record in parsed.records:
        data = record.to_dict()
        assert ReturnRecord.from_dict(data).to_dict() == data
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in data["fields"].items())
    assert all(isinstance(w, str) for w in parsed.warnings)
    assert len(parsed.warnings) <= 51  # capped
    assert not any("could not be read completely" in w for w in parsed.warnings)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_the_parser_never_raises_on_any_text(text: str) -> None:
    parsed = parse_return(text)
    assert isinstance(parsed, ParsedReturn)
    _consistent(parsed)


ALPHABET = st.sampled_from([*"MKE/NIC/CMC/STATUS/REJECT/*** \n\r\t.,-0123456789ABCZ", "\x00",
                            "\x07", "\x1b", "\x85", "\u00e9", "MKE/", "***", "\n\n"])


@FAST
@given(st.lists(ALPHABET, max_size=200).map("".join))
def test_the_parser_never_raises_on_return_like_text(text: str) -> None:
    _consistent(parse_return(text))


@FAST
@given(st.sampled_from([STOLEN, PERSON]), st.data())
def test_the_parser_never_raises_on_mutated_returns(original: str, data: st.DataObject) -> None:
    text = original
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["insert", "delete", "swap", "case", "newline"]))
        chunk = data.draw(st.text(max_size=8))
        if action == "insert":
            text = text[:pos] + chunk + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + len(chunk):]
        elif action == "swap":
            text = text[pos:] + text[:pos]
        elif action == "case":
            text = text[:pos] + text[pos:].lower()
        else:
            text = text[:pos] + "\r\n" + text[pos:]
    _consistent(parse_return(text))


@FAST
@given(st.sampled_from([STOLEN, PERSON]), st.integers(0, 2), st.sampled_from(["\n", "\r\n", "\r"]))
def test_harmless_noise_changes_nothing(original: str, spaces: int, newline: str) -> None:
    """Lower case, other line ends, extra spaces: the same records."""
    noisy = original.lower().replace("\n", newline).replace(" ", " " * (1 + spaces))
    assert [r.to_dict() for r in parse_return(noisy).records] == \
        [r.to_dict() for r in parse_return(original).records]


TAGS = st.from_regex(r"[A-Z][A-Z0-9]{1,2}", fullmatch=True)
# Inquiry values: letters, digits, spaces, commas, hyphens (the rules forbid "." and "/").
VALUES = st.from_regex(r"[A-Z0-9]([A-Z0-9 ,-]{0,20}[A-Z0-9])?", fullmatch=True)


@FAST
@given(st.dictionaries(TAGS, VALUES, min_size=1, max_size=8),
       st.lists(st.from_regex(r"[A-Z]{2}", fullmatch=True), min_size=1, max_size=5),
       st.one_of(st.none(), st.from_regex(r"[A-Z0-9]{1,10}", fullmatch=True)))
def test_anything_encoded_decodes_to_the_same_fields(fields: dict[str, str], dest: list[str],
                                                     control: str | None) -> None:
    text = encode_text("QV", "MD1012600", dest, fields, control)
    assert not text.endswith(".")
    assert decode_text(text) == ("QV", "MD1012600", dest, fields)


@FAST
@given(st.dictionaries(TAGS.filter(lambda t: t not in ("CMC", "MKE")), VALUES,
                       min_size=1, max_size=8),
       st.integers(1, 6))
def test_anything_encoded_parses_back_from_a_return(fields: dict[str, str], per_line: int
                                                    ) -> None:
    """Fields printed as a switch prints them (TAG/value, spaces and new lines) read back the
    same, whatever the line breaks."""
    pairs = [f"{t}/{v}" for t, v in fields.items()]
    lines = [" ".join(pairs[i:i + per_line]) for i in range(0, len(pairs), per_line)]
    text = "QV.MD1012600.NCIC\n\nMKE/REGISTRATION\n" + "\n".join(lines)
    (record,) = parse_return(text).records
    assert record.fields == {t: " ".join(v.split()) for t, v in fields.items()}
    assert record.nic == (fields.get("NIC") or None)


# -- generated returns: everything printed comes back --------------------------------------------
TITLES = st.sampled_from([title for title, _file, _hit in FILE_FOR_TITLE]
                         + ["IMMIGRATION VIOLATOR - ABSCONDER", "WANTED PERSON - CAUTION"])
PAIRS = st.lists(st.tuples(TAGS.filter(lambda t: t not in ("CMC", "MKE")), VALUES),
                 min_size=1, max_size=14)
WORD = st.sampled_from(["SUBJECT", "IS", "THE", "PERSON", "IN", "RECORD", "ICE", "WILL", "LODGE",
                        "A", "DETAINER", "CONTACT", "LESC", "VTICE0900", "(802)", "872-6020",
                        "RE-ENTERED", "AFTER", "REMOVAL", "ORDER", "OF", "2019", "MAINTAIN",
                        "CUSTODY", "FINDING:", "1G4AH59H45G118341"])
SENTENCE = st.lists(WORD, min_size=1, max_size=18).map(lambda w: " ".join(w) + ".")
CAVEAT = st.lists(WORD, min_size=1, max_size=20).map(lambda w: " ".join(w) + ".")
RECORD = st.fixed_dictionaries({
    "title": TITLES, "pairs": PAIRS, "per_line": st.integers(1, 8),
    "cautions": st.lists(st.sampled_from(["00", "05", "25", "90"]), max_size=3),
    "caveats": st.lists(CAVEAT, max_size=2, unique=True),
    "narrative": st.lists(SENTENCE, max_size=4)})


def _render(header: str, caveats: list[str], records: list[dict]) -> str:  # type: ignore[type-arg]
    blocks = [header, *(f"*** {c} ***" for c in caveats)]
    for record in records:
        pairs = [f"{t}/{v}" for t, v in record["pairs"]]
        n = record["per_line"]
        lines = [f"MKE/{record['title']}", *(" ".join(pairs[i:i + n])
                                            for i in range(0, len(pairs), n))]
        if record["cautions"]:
            lines.append(" ".join(f"CMC/{c}" for c in record["cautions"]))
        blocks.append("\n".join(lines))
        if record["narrative"]:
            blocks.append("\n".join(record["narrative"]))
        blocks += [f"*** {c} ***" for c in record["caveats"]]
    return "\n\n".join(blocks)


def _expected_fields(pairs: list[tuple[str, str]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for tag, value in pairs:
        key, n = tag, 1
        while key in fields:
            n += 1
            key = f"{tag}#{n}"
        fields[key] = " ".join(value.split())
    return fields


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(RECORD, min_size=1, max_size=4),
       st.lists(CAVEAT, max_size=2, unique=True),
       st.sampled_from([None, 64, 72, 80, 132]),
       st.booleans(), st.sampled_from(["\n", "\r\n"]))
def test_every_pair_of_a_generated_return_comes_back(records: list[dict], caveats: list[str],  # type: ignore[type-arg]
                                                     width: int | None, lower: bool,
                                                     newline: str) -> None:
    text = _render("QW.MD1012600.NCIC", caveats, records)
    if width:
        text = wrap_text(text, width)
    if lower:
        text = text.lower()
    parsed = parse_return(text.replace("\n", newline))
    assert parsed.warnings == []  # nothing guessed, nothing "could not be read completely"
    assert parsed.header == ("QW", "MD1012600", "NCIC")
    assert parsed.caveats == caveats
    assert len(parsed.records) == len(records)
    for got, want in zip(parsed.records, records, strict=True):
        assert got.title == want["title"]
        assert got.fields == _expected_fields(want["pairs"])
        assert got.caution_codes == want["cautions"]
        assert got.narrative == want["narrative"]
        inherited = [c for c in caveats if c not in want["caveats"]] if got.hit else []
        assert got.caveats == inherited + want["caveats"]
    # and the headline is the same from these records as from the text
    assert decide([r.to_dict() for r in parsed.records], text) == headline_of_text(text)


KNOWN = st.sampled_from([
    ("VIN", st.from_regex(r"[A-HJ-NPR-Z0-9]{17}", fullmatch=True)),
    ("NIC", st.from_regex(r"[A-Z][0-9]{9}", fullmatch=True)),
    ("DOB", st.from_regex(r"(19|20)[0-9]{6}", fullmatch=True)),
    ("ARN", st.from_regex(r"A[0-9]{9}", fullmatch=True)),
    ("ORI", st.from_regex(r"[A-Z]{2}[0-9]{7}", fullmatch=True)),
])


@FAST
@given(KNOWN.flatmap(lambda kv: st.tuples(st.just(kv[0]), kv[1])), st.data())
def test_a_known_format_value_broken_anywhere_is_joined_without_the_break(
        tag_value: tuple[str, str], data: st.DataObject) -> None:
    """A switch that breaks a line inside a VIN, NIC, date, A-number or ORI (not at a fixed
    width): the value comes back whole."""
    tag, value = tag_value
    cut = data.draw(st.integers(1, len(value) - 1))
    text = (f"MKE/STOLEN VEHICLE\nLIC/TRN4821 LIS/VA {tag}/{value[:cut]}\n{value[cut:]} "
            "VYR/2005 VMA/BUIC")
    parsed = parse_return(text)
    (record,) = parsed.records
    assert record.fields == {"LIC": "TRN4821", "LIS": "VA", tag: value, "VYR": "2005",
                             "VMA": "BUIC"}
    assert parsed.warnings == [] and record.narrative == []
