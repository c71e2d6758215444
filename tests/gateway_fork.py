"""Training gateways for the tests, each a process of its own forked from one that has imported
``mdt-gateway`` once (Python's ``multiprocessing`` fork server, with ``mock_server`` preloaded).

Started as ``python -m mock_server serve`` every time, a gateway spent about a second importing
FastAPI, pydantic and uvicorn, and half a second tearing the interpreter down at its exit: about
1.5 s for each of the suite's ~200 gateways. A forked one runs the same entry point
(``mock_server.__main__.main``) with the same arguments, environment and working directory, on a
real socket of 127.0.0.1; only the imports are shared. ``MDT_TEST_GATEWAY_SPAWN=1`` starts each
one as a fresh ``python -m mock_server`` instead (the packaging test and the CLI tests always do).
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

PRELOAD = ["mock_server.__main__", "mock_server.app", "uvicorn", "uvicorn.protocols.http.h11_impl",
           "uvicorn.lifespan.on", "uvicorn.loops.asyncio"]

_context: ForkServerContext | None = None


def spawn_each() -> bool:
    return os.environ.get("MDT_TEST_GATEWAY_SPAWN") == "1"


def _fork_server() -> ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        assert isinstance(context, ForkServerContext)
        context.set_forkserver_preload(PRELOAD)
        _context = context
    return _context


def _serve(argv: list[str], log: str, environ: dict[str, str], cwd: str) -> None:
    """In the forked process: what ``python -m mock_server serve ...`` would do, its standard
    output and error into ``log`` (read by the test for the line that names the port)."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    from mock_server.__main__ import main

    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


class ForkedGateway:
    """The forked gateway's process, answering as much of ``subprocess.Popen`` as the tests use
    (``poll``, ``terminate``, ``kill``, ``wait``; no pipe: its output is in ``log``)."""

    stdout = None

    def __init__(self, process: multiprocessing.process.BaseProcess, log: Path) -> None:
        self._process = process
        self.log = log
        self.pid = process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def terminate(self) -> None:
        self._process.terminate()

    def kill(self) -> None:
        self._process.kill()

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(["mdt-gateway (forked)"], timeout or 0)
        return self._process.exitcode


def fork_gateway(argv: list[str], log: Path) -> ForkedGateway:
    """Start ``mdt-gateway <argv>`` forked from the fork server; its output goes to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    process: Any = _fork_server().Process(
        target=_serve, args=(argv, str(log), dict(os.environ), os.getcwd()), daemon=True,
        name="mdt-gateway")
    process.start()
    return ForkedGateway(process, log)
