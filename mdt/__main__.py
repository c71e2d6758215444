"""``mdt`` / ``python -m mdt``: no command (or ``mdt gui``) opens the GUI; the other commands are
the headless CLI. One parser for both (:mod:`mdt.entry`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)  # every file MDT writes (cache, logs, exports, settings) is owner-only
    args = list(sys.argv[1:] if argv is None else argv)
    from mdt.entry import parse, wants_gui

    parsed = parse(args)  # a usage error stops here, with the same sentence for both faces
    if parsed.self_test:
        from mdt.selftest import run_self_test

        return run_self_test()
    if wants_gui(parsed):
        from mdt.ui.application import run_gui  # Qt is imported only for the GUI

        return run_gui(args, parsed)
    from mdt.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
