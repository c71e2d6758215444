"""The alert bar's one ordered list (``mdt.core.alerts.bar_order``): a new critical alert takes
the bar, then officer-safety hits, then the louder, then the nearest deadline, then the newest.
Issue 16: with a detainer (48-hour window) on the bar, an armed-and-dangerous hit only raised
"All alerts (+6)"."""

from __future__ import annotations

from typing import Any

import pytest

from mdt.core.alerts import bar_order, officer_safety


def alert(aid: str, kind: str, severity: str = "critical", deadline: str | None = None,
          created: str = "2026-11-24T12:00:00Z", **body: Any) -> dict[str, Any]:
    return {"id": aid, "kind": kind, "severity": severity, "deadline": deadline,
            "created_at": created, "body": body, "title": aid}


DETAINER = alert("detainer", "detainer", deadline="2026-11-26T12:00:00Z",
                 created="2026-11-24T11:00:00Z")
ARMED = alert("armed", "caution", created="2026-11-24T11:30:00Z")
DELAYED_ARMED = alert("delayed", "delayed_hit", created="2026-11-24T10:00:00Z",
                      hit_kind="caution")
YQ_SOON = alert("yq-soon", "incoming_yq", deadline="2026-11-24T12:05:00Z",
                created="2026-11-24T11:55:00Z")
YQ_LATER = alert("yq-later", "incoming_yq", deadline="2026-11-24T12:50:00Z",
                 created="2026-11-24T11:56:00Z")
HIT = alert("hit", "hit", created="2026-11-24T11:40:00Z")
YR = alert("yr", "yr", "high", created="2026-11-24T11:59:00Z")
STATUS = alert("status", "switch_status", "info", created="2026-11-24T11:59:30Z")


@pytest.mark.parametrize(("alerts", "order"), [
    ([DETAINER, ARMED], ["armed", "detainer"]),
    ([YR, STATUS, HIT], ["hit", "yr", "status"]),
    ([YQ_LATER, DETAINER, YQ_SOON, HIT], ["yq-soon", "yq-later", "detainer", "hit"]),
    ([STATUS, YQ_SOON, DELAYED_ARMED, ARMED, DETAINER, YR],
     ["armed", "delayed", "yq-soon", "detainer", "yr", "status"]),
    ([], []),
])
def test_officer_safety_then_the_nearest_deadline(alerts: list[dict[str, Any]],
                                                  order: list[str]) -> None:
    ordered, pinned = bar_order(alerts)
    assert [a["id"] for a in ordered] == order and pinned is None


def test_a_new_critical_alert_always_takes_the_bar() -> None:
    ordered, pinned = bar_order([DETAINER])
    assert ordered[0]["id"] == "detainer"
    known = {"detainer"}
    # the armed-and-dangerous hit comes while the detainer is on the bar: it takes it
    ordered, pinned = bar_order([DETAINER, ARMED], known=known, pinned=pinned)
    assert [a["id"] for a in ordered] == ["armed", "detainer"] and pinned == "armed"
    known = {"detainer", "armed"}
    # a new critical alert takes the bar even from an officer-safety hit ...
    ordered, pinned = bar_order([DETAINER, ARMED, YQ_LATER], known=known, pinned=pinned)
    assert [a["id"] for a in ordered] == ["yq-later", "armed", "detainer"]
    known |= {"yq-later"}
    # ... and keeps it on the next refresh, until acknowledged
    ordered, pinned = bar_order([DETAINER, ARMED, YQ_LATER], known=known, pinned=pinned)
    assert ordered[0]["id"] == "yq-later" and pinned == "yq-later"
    ordered, pinned = bar_order([DETAINER, ARMED], known=known, pinned=pinned)
    assert [a["id"] for a in ordered] == ["armed", "detainer"] and pinned is None
    # a new high (not critical) alert does not take the bar
    ordered, pinned = bar_order([DETAINER, ARMED, YR], known={"detainer", "armed"})
    assert ordered[0]["id"] == "armed" and pinned is None


def test_officer_safety() -> None:
    assert officer_safety(ARMED) and officer_safety(DELAYED_ARMED)
    assert not officer_safety(DETAINER) and not officer_safety(HIT)
    assert not officer_safety({"kind": "hit", "body": None})
