"""One parser for ``mdt``: GUI and command line, the same flag names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mdt.entry import parse, wants_gui


@pytest.mark.parametrize(("argv", "gui", "gateway", "theme"), [
    ([], True, None, None),
    (["--theme", "night"], True, None, "night"),  # went to the command line before
    (["gui", "--gateway", "https://a.example", "--theme", "day"], True, "https://a.example", "day"),
    (["--gateway", "https://b.example", "gui"], True, "https://b.example", None),
    (["--gateway-url", "https://c.example"], True, "https://c.example", None),  # old spelling
    (["login", "--gateway", "https://d.example", "--user", "officer1"], False,
     "https://d.example", None),
    (["--gateway", "https://e.example", "login"], False, "https://e.example", None),
    (["send", "QV", "LIC=ABC1234", "LIS=MD"], False, None, None),
])
def test_one_parser_for_both_faces(argv: list[str], gui: bool, gateway: str | None,
                                   theme: str | None) -> None:
    args = parse(argv)
    assert wants_gui(args) is gui
    assert args.gateway == gateway
    assert args.theme == theme


@pytest.mark.parametrize("argv", [
    [], ["--gateway", "https://a.example"], ["--gateway=https://a.example", "--ca-bundle", "ca.pem"],
    ["--gateway-url", "https://c.example", "--theme", "night", "--startup-probe"],
])
def test_the_gui_flags_alone_read_as_the_whole_parser_reads_them(argv: list[str]) -> None:
    from mdt.entry import _gui_alone, build_parser

    quick = _gui_alone(argv)
    assert quick is not None
    assert vars(quick) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", [
    ["gui"], ["--self-test"], ["--help"], ["--version"], ["--theme", "dusk"], ["--gate", "x"],
    ["--start"], ["--gateway"], ["show"], ["--gateway", "https://a.example", "login"],
])
def test_anything_else_goes_to_the_whole_parser(argv: list[str]) -> None:
    from mdt.entry import _gui_alone

    assert _gui_alone(argv) is None


def test_sub_commands_name_their_handler() -> None:
    from mdt.cli import COMMANDS

    assert parse(["msg", "build", "QV"]).cli == "msg build"
    assert parse(["msg", "parse", "-"]).cli == "msg parse"
    assert parse(["show"]).cli == "show"
    assert set(COMMANDS) >= {"login", "send", "sync", "show", "msg build", "msg parse"}


@pytest.mark.parametrize(("argv", "says"), [
    (["--training-demo"], "unrecognized arguments: --training-demo"),
    (["send", "QV", "--theme", "night"], "unrecognized arguments: --theme night"),
    (["--theme", "night", "send", "QV"], "--theme is a GUI flag"),
    (["--theme", "dusk"], "invalid choice: 'dusk'"),
])
def test_a_wrong_flag_is_one_sentence_from_the_one_parser(argv: list[str], says: str) -> None:
    done = subprocess.run([sys.executable, "-m", "mdt", *argv], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert says in done.stderr
    assert "Traceback" not in done.stderr
