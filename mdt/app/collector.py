"""Python's cyclic garbage collector, kept from stalling the GUI thread.

A full collection (generation 2) walks every object the process tracks: with Qt's wrappers,
pydantic's models and a made terminal page, over 100,000 of them, 40 to 180 ms of the GUI thread
on this machine, at whatever moment the allocation count says. The stall watchdog saw a 180 ms
collection in the middle of the terminal page's build at sign-in, under an event that takes
0.1 ms otherwise.

What lives as long as the window (modules, classes, the window and its pages) never becomes
garbage, so walking it again at every full collection finds nothing:

- :func:`freeze` moves every object that exists now out of the collector's sight
  (``gc.freeze``): later collections walk only what came after. Called once the first window is
  up and once the terminal page is whole.
- :func:`pause` / :func:`resume` hold automatic collection off while a page is made a part per
  turn of the event loop (each turn allocates enough to trigger a collection that would walk the
  half-made page again) and freeze it once the last pause is over.

A page made again (the forms of a new sign-in) leaves its old widgets to Qt, which deletes them
whatever the collector does; what stays frozen is the few Python wrappers in cycles with them.

The collector itself is Python's; only when it runs is decided here."""

from __future__ import annotations

import gc

_paused = 0  # pauses not yet resumed (GUI thread only)


def freeze() -> None:
    """What exists now lives as long as the window: out of the collector's sight."""
    gc.freeze()


def pause() -> None:
    """No automatic collection until :func:`resume` (counted: pauses may overlap)."""
    global _paused
    _paused += 1
    gc.disable()


def resume() -> None:
    """The end of one :func:`pause`; after the last, what was made is frozen and automatic
    collection goes on."""
    global _paused
    if _paused == 0:
        return
    _paused -= 1
    if _paused == 0:
        freeze()
        gc.enable()


def paused() -> bool:
    return _paused > 0
