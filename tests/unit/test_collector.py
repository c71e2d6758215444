"""mdt.app.collector: no automatic collection while a page is made in stages; what exists once
the last stage is over is frozen (out of later collections' sight), and collection goes on."""

from __future__ import annotations

import gc

from mdt.app import collector

# (tests/conftest.py's collector_thawed resumes any pause left and unfreezes after each test)


def test_overlapping_pauses_hold_collection_off_until_the_last_is_over() -> None:
    gc.unfreeze()
    frozen_before = gc.get_freeze_count()
    collector.pause()  # the terminal page
    collector.pause()  # a sign-in's form views, while the page is still being made
    assert not gc.isenabled() and collector.paused()
    kept = [[n] for n in range(1000)]  # tracked by the collector until frozen
    collector.resume()
    assert not gc.isenabled()  # one pause is still on
    collector.resume()
    assert gc.isenabled() and not collector.paused()
    assert gc.get_freeze_count() >= frozen_before + len(kept)  # what was made is frozen
    collector.resume()  # one too many: nothing happens
    assert gc.isenabled()
    del kept


def test_freeze_moves_what_exists_out_of_the_collectors_sight() -> None:
    gc.unfreeze()
    kept = [[n] for n in range(5000)]
    collector.freeze()
    assert gc.get_freeze_count() >= len(kept)
    assert not any(obj is kept for obj in gc.get_objects())  # a full collection skips it
    del kept
