"""What a stolen copy of a terminal's files allows an offline password guesser, per CPU core.

With ``keystore = "wrapped-file"`` the wrapped cache key is in ``wrapped-keys.json``, so a copy of
the data folder can be attacked offline: every guess costs one KDF derivation (the lockout does not
apply to a copy). With an OS keystore the wrapped key is not in the files at all: a copy of
``cache.db`` leaves only the raw 256-bit key to search. Prints the guesses per second before
(scrypt n=2^15, r=8, p=1, what MDT used) and after (the default Argon2id), with a plain SHA-256
as the baseline, and one JSON object on the last line.

    .venv/bin/python benchmarks/kdf.py [--rounds 8]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mdt.store.keys import Argon2Params, KeyVault, ScryptParams


def _seconds(derive: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        derive()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    salt = os.urandom(16)
    before = ScryptParams()
    after = KeyVault().kdf_params
    assert isinstance(after, Argon2Params)
    scrypt_s = _seconds(lambda: KeyVault._derive("guess", salt, before), args.rounds)
    argon_s = _seconds(lambda: KeyVault._derive("guess", salt, after), args.rounds)
    sha_s = _seconds(lambda: [hashlib.sha256(b"guess%d" % i).digest() for i in range(10000)],
                     args.rounds) / 10000
    print(f"scrypt n=2^15 r=8 p=1 (before): {scrypt_s * 1000:.0f} ms per guess")
    print(f"Argon2id {after.memory_cost // 1024} MiB x{after.iterations} lanes {after.lanes} "
          f"(now): {argon_s * 1000:.0f} ms per guess")
    print(json.dumps({
        "bench": "kdf",
        "guesses_per_s_per_core_before_scrypt": round(1 / scrypt_s, 2),
        "guesses_per_s_per_core_now_argon2id": round(1 / argon_s, 2),
        "ms_per_unlock_now": round(argon_s * 1000, 1),
        "memory_per_guess_mib_before": 128 * before.r * before.n // (1024 * 1024),
        "memory_per_guess_mib_now": after.memory_cost // 1024,
        "baseline_sha256_guesses_per_s": round(1 / sha_s),
        "ratio_before_to_now": round(argon_s / scrypt_s, 2),
        "with_os_keystore": "the wrapped key is not in MDT's files (the OS keystore holds it, "
                            "under the login): a copy of the data folder leaves only the raw "
                            "256-bit cache key to search",
    }))


if __name__ == "__main__":
    main()
