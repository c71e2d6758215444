"""Property tests: the return parser never raises, whatever it is given, and what is encoded
reads back the same."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdt.core.message import decode_text, encode_text
from mdt.core.returns import ParsedReturn, ReturnRecord, parse_return
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
