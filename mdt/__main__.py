"""``mdt`` / ``python -m mdt``: no arguments open the GUI; sub-commands are the headless CLI."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)  # every file MDT writes (cache, logs, exports, settings) is owner-only
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--self-test"]:
        from mdt.selftest import run_self_test

        return run_self_test()
    if not args or args[0] in ("--gateway-url", "--training-demo") or args[0].startswith("--gui"):
        from mdt.ui.application import run_gui  # Qt is imported only for the GUI

        return run_gui(args)
    from mdt.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
