"""How long the return parser (``mdt.core.returns.parse_return``) takes, and whether it is linear.

Workload: returns of about 1 KB, 100 KB and 1 MB built from the corpus' kinds of record (a stolen
vehicle, a wanted person with an IVF record, an IAR with LESC's narrative, a criminal history with
arrests), cut at 80 columns mid-value as a legacy switch prints them; and one record with 20,000
repeated tags (the case that took 53 s when repeats were numbered by searching). Each figure is
the best of several runs. The baseline is a plain pass over the same text (``str.split`` into
lines, then into words): what any reading of the text costs at least. Peak memory of one 1 MB parse
is measured apart (tracemalloc slows the run it watches). The ratio is also given with the garbage
collector off, beside a ``str.split`` pass that keeps its words: in CPython, keeping many objects
alive costs more than linear (the collector walks them), which is not the parser's doing.

    .venv/bin/python benchmarks/parse.py [--repeat 5]

Prints one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from collections.abc import Callable

from mdt.core.returns import parse_return
from mock_server.returns import wrap_text

HIT = ("*** WARNING - A HIT IS NOT PROBABLE CAUSE. CONFIRM THE RECORD WITH THE ENTERING AGENCY "
       "(ORI) BEFORE ANY ACTION. ***")
BLOCKS = [
    "MKE/STOLEN VEHICLE\nORI/VA0290000 LIC/TRN{n:04d} LIS/VA LIY/2027 LIT/PC\n"
    "VIN/1G4AH59H45G118341 VYR/2005 VMA/BUIC VMO/LES VST/4D VCO/BLK\n"
    "DOT/20261120 OCA/26-{n:06d} NIC/V12{n:07d}\nCMC/00",
    "MKE/WANTED PERSON - CAUTION\nORI/VA0290000 NAM/KOLVEX, DRAYTON Q SEX/M RAC/W DOB/19840312\n"
    "HGT/511 WGT/185 EYE/BLU HAI/BRO\nOFF/1399 OCA/26-{n} NIC/W26{n:07d}\nCMC/00 CMC/05\n\n"
    "*** IMMIGRATION VIOLATOR FILE RECORD - ADMINISTRATIVE (CIVIL) WARRANT. DO NOT ARREST OR "
    "DETAIN BASED SOLELY ON THIS INFORMATION. CONTACT LESC (VTICE0900) TO CONFIRM. ***",
    "MKE/LESC STATUS\nNAM/ZANMIR, SOREN T SEX/M RAC/W DOB/19790704\n"
    "ARN/A2{n:08d} CTZ/AA FBI/T00002A\nSTA/DEPORTED FELON DET/Y\n\n"
    "LESC FINDING: THE SUBJECT IS THE PERSON IN THE IMMIGRATION RECORD.\n"
    "SUBJECT WAS REMOVED FROM THE UNITED STATES AFTER A FELONY CONVICTION AND HAS RE-ENTERED.\n"
    "ICE WILL LODGE A DETAINER. MAINTAIN CUSTODY AND CONTACT LESC (VTICE0900).",
    "MKE/CRIMINAL HISTORY\nNAM/FENRIX, AVERY D SEX/M RAC/B DOB/19950519\n"
    "FBI/T00008A SID/VA00000008\n"
    "DOA/20150302 AGY/VA0290000 CHG/2399 LARCENY DIS/CONVICTED\n"
    "DOA/20180911 AGY/VA0290000 CHG/5404 DUI DIS/DISMISSED",
]


def a_return(size: int) -> str:
    """A return text of about ``size`` bytes, cut at 80 columns."""
    parts = ["QW.MD1012600.NCIC", HIT]
    total, n = 0, 0
    while total < size:
        block = BLOCKS[n % len(BLOCKS)].format(n=n)
        parts.append(block)
        total += len(block) + 2
        n += 1
    return wrap_text("\n\n".join(parts), 80)[:size]


def repeated_tags(count: int) -> str:
    line = " ".join(["DOA/20200101"] * 10)
    return "QR.MD1012600.III\n\nMKE/CRIMINAL HISTORY\n" + "\n".join([line] * (count // 10))


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def split_pass(text: str) -> int:
    return sum(len(line.split()) for line in text.split("\n"))


def split_kept(text: str) -> list[list[str]]:
    return [line.split() for line in text.split("\n")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    texts = {"1kb": a_return(1_000), "100kb": a_return(100_000), "1mb": a_return(1_000_000),
             "repeated_tags_20000": repeated_tags(20_000),
             # hostile shapes: 1 MB of five-letter lines after a record type, and 30,000
             # whole-return caveats over 30,000 hit records
             "1mb_short_lines": "MKE/STOLEN GUN\n" + "WORD\n" * 200_000,
             "1mb_caveats_and_records": "".join(f"*** C{i} ***\n" for i in range(30_000))
             + "MKE/STOLEN GUN\nSER/1\n" * 30_000}
    seconds, baseline = {}, {}
    for name, text in texts.items():
        parsed = parse_return(text)
        assert parsed.records and not any("completely" in w for w in parsed.warnings), name
        seconds[name] = round(best(lambda t=text: parse_return(t), args.repeat), 6)
        baseline[name] = round(best(lambda t=text: split_pass(t), args.repeat), 6)
        print(f"{name:>24}: {len(text):>9,} bytes, {len(parsed.records):>5} records, "
              f"parse {seconds[name]:.4f} s, str.split pass {baseline[name]:.4f} s")
    # The parser keeps what it reads (records, fields, narrative); a pass that keeps its words
    # too grows faster than linear in CPython (the allocator and the garbage collector walk
    # more live objects): the same figures with the collector off show the parser itself.
    kept = {k: round(best(lambda t=texts[k]: split_kept(t), args.repeat), 6)
            for k in ("100kb", "1mb")}
    gc.disable()
    try:
        gc_off = {k: round(best(lambda t=texts[k]: parse_return(t), args.repeat), 6)
                  for k in ("100kb", "1mb")}
    finally:
        gc.enable()
    (record,) = parse_return(texts["repeated_tags_20000"]).records
    assert len(record.fields) == 20_000
    tracemalloc.start()
    parse_return(texts["1mb"])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ratio = seconds["1mb"] / seconds["100kb"]
    print(f"1 MB / 100 KB: {ratio:.1f} (linear is about 10); with the garbage collector off "
          f"{gc_off['1mb'] / gc_off['100kb']:.1f}; str.split: "
          f"{baseline['1mb'] / baseline['100kb']:.1f}, keeping its words: "
          f"{kept['1mb'] / kept['100kb']:.1f}; peak memory of a 1 MB parse {peak / 1e6:.1f} MB")
    print(json.dumps({
        "seconds": seconds, "bytes": {k: len(v) for k, v in texts.items()},
        "ratio_1mb_to_100kb": round(ratio, 2),
        "ratio_1mb_to_100kb_gc_off": round(gc_off["1mb"] / gc_off["100kb"], 2),
        "baseline_str_split_seconds": baseline,
        "baseline_ratio_1mb_to_100kb": round(baseline["1mb"] / baseline["100kb"], 2),
        "baseline_kept_words_ratio_1mb_to_100kb": round(kept["1mb"] / kept["100kb"], 2),
        "times_the_baseline_1mb": round(seconds["1mb"] / baseline["1mb"], 1),
        "peak_memory_mb_1mb": round(peak / 1e6, 1),
    }))


if __name__ == "__main__":
    main()
