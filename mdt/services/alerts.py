"""The signed-in operator's alerts and hit confirmations, headless (the GUI and the CLI share it).

Blocking calls: run them on a worker, never on the GUI thread. The rules are in
:mod:`mdt.core.alerts` and :mod:`mdt.core.confirmation`; this module reads and writes the cache
through the session's store port and reads the gateway's clock (:mod:`.gateway_time`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mdt.core.alerts import AlertKind, escalation_alert, format_time
from mdt.core.clock import GatewayClock
from mdt.core.confirmation import (
    ConfirmationError,
    IncomingRequest,
    OutgoingConfirmation,
    YqDraft,
    build_yq,
    build_yr,
    escalate_yq,
    incoming_queue,
    outgoing_confirmations,
)
from mdt.services.gateway_time import GatewayTime
from mdt.services.session import Session
from mdt.settings import Settings

# Queue a message (``Queries.send``): what a YQ or YR is sent with.
SendMessage = Callable[..., dict[str, Any]]

log = logging.getLogger(__name__)


@dataclass
class AlertSnapshot:
    """Everything the alert bar, the countdowns and the agency queue show, read at once."""

    now: datetime  # gateway time when it was read
    open_alerts: list[dict[str, Any]] = field(default_factory=list)
    confirmations: dict[str, OutgoingConfirmation] = field(default_factory=dict)
    queue: list[IncomingRequest] = field(default_factory=list)
    clock_offset: float = 0.0

    @property
    def must_acknowledge(self) -> list[dict[str, Any]]:
        return [a for a in self.open_alerts if a["severity"] == "critical"]


class AlertDesk:
    def __init__(self, session: Session, time: GatewayTime, settings: Settings,
                 send: SendMessage, poke: Callable[[], None]) -> None:
        self.session = session
        self.time = time
        self.settings = settings
        self._send = send
        self._poke = poke  # the acknowledgement's audit record goes to the gateway

    # -- the gateway's clock ---------------------------------------------------------------------
    @property
    def clock(self) -> GatewayClock:
        return self.time.clock

    def sync_clock(self) -> float:
        """Measure the offset to the gateway's clock (one health call) and keep it."""
        return self.time.measure()

    def now(self) -> datetime:
        return self.time.now()

    # -- reading ---------------------------------------------------------------------------------
    def snapshot(self) -> AlertSnapshot:
        """Open alerts, my confirmations and the agency queue; raises the alerts for requests
        that ran out of time (each once) before reading."""
        now = self.time.now()
        messages, events = self.session.read().cache.confirmation_traffic()
        confirmations = outgoing_confirmations(messages, events)
        self._raise_overdue(confirmations, now)
        requests = [e for e in events if e.get("type") == "hit_confirmation_request"]
        queue = incoming_queue(requests, messages)
        self._resolve_answered(confirmations, queue, now)
        alerts = self.session.read().cache.list_alerts(open_only=True, limit=500)
        # the offset the views add to this machine's clock, as of now (the wall clock may have
        # jumped since the last measurement; the gateway's time did not)
        offset = (now - datetime.now(UTC)).total_seconds()
        return AlertSnapshot(now, alerts, confirmations, queue, offset)

    def _raise_overdue(self, confirmations: dict[str, OutgoingConfirmation],
                       now: datetime) -> None:
        _, writer = self.session.require()
        for nic, confirmation in confirmations.items():
            next_rno = confirmation.next_rno(now)
            if next_rno is None:
                continue
            fields = confirmation.last.message.get("fields") or {}
            subject = fields.get("NAM") or fields.get("LIC") or fields.get("VIN") or \
                fields.get("SER") or ""
            deadline = confirmation.deadline
            alert = escalation_alert(nic, next_rno, deadline=format_time(deadline)
                                     if deadline else None, rty=str(fields.get("RTY") or ""),
                                     subject=str(subject), episode=confirmation.message_ids[0]
                                     if confirmation.earlier else "")
            row = alert.to_row()
            writer.cache.add_alert(row)

    def _resolve_answered(self, confirmations: dict[str, OutgoingConfirmation],
                          queue: list[IncomingRequest], now: datetime) -> None:
        """A YR sent for a queued request, or the next YQ sent for an overdue one, answers its
        alert: acknowledged by the operator who sent it, with a note naming the message."""
        answered = {item.nic: item.answered_by for item in queue if item.answered_by}
        open_alerts = self.session.read().cache.list_alerts(open_only=True,
                                                                             limit=500)
        for alert in open_alerts:
            nic = str(alert["body"].get("nic") or "")
            note = ""
            if alert["kind"] == AlertKind.INCOMING_YQ and nic in answered:
                yr = answered[nic] or {}
                if int(str((yr.get("fields") or {}).get("RNO") or 1)) >= \
                        int(alert["body"].get("rno") or 1):
                    note = f"answered by YR {yr.get('id')}"
            elif alert["kind"] == AlertKind.CONFIRMATION_OVERDUE and nic in confirmations:
                confirmation = confirmations[nic]
                if confirmation.last.rno >= int(alert["body"].get("next_rno") or 0) or \
                        confirmation.next_rno(now) is None:
                    note = f"resolved: RNO {confirmation.last.rno} " + (
                        "sent" if confirmation.answer is None else "answered")
            if note:
                self.acknowledge(alert["id"], note)

    def history(self, limit: int = 500) -> list[dict[str, Any]]:
        """Every alert still in the cache, open ones first: readable offline."""
        return self.session.read().cache.list_alerts(limit=limit)

    # -- acknowledging ---------------------------------------------------------------------------
    def acknowledge(self, alert_id: str, note: str = "") -> bool:
        """Record that the signed-in operator saw and acknowledged an alert (audited)."""
        operator, writer = self.session.require()
        device = self.settings.device_id
        done = writer.cache.ack_alert(alert_id, operator.user_id, note, device)
        self._poke()  # the audit record goes to the gateway
        return bool(done)

    def _acknowledge_where(self, match: Any, note: str) -> None:
        for alert in self.session.read().cache.list_alerts(open_only=True,
                                                                           limit=500):
            if match(alert):
                self.acknowledge(alert["id"], note)

    # -- outgoing confirmation -------------------------------------------------------------------
    def draft_yq(self, return_id: str, record_index: int, priority: str) -> YqDraft:
        """The YQ for hit ``record_index`` of a cached return, prefilled from the record."""
        operator, _ = self.session.require()
        ret = self.session.read().cache.get_return(return_id)
        if ret is None or not 0 <= record_index < len(ret.records):
            raise ConfirmationError("That return is no longer in the cache.")
        return build_yq(ret.records[record_index], priority=priority,
                        requester_name=operator.name,
                        phone=self.settings.operator_phone)

    def draft_next_request(self, nic: str) -> YqDraft:
        """RNO 2 or 3 for a hit whose last request went unanswered in time."""
        snapshot = self.snapshot()
        confirmation = snapshot.confirmations.get(nic)
        if confirmation is None:
            raise ConfirmationError(f"No hit confirmation request was sent for NIC {nic}.")
        next_rno = confirmation.next_rno(snapshot.now) or confirmation.last.rno + 1
        if next_rno > 3:
            raise ConfirmationError("Three requests went unanswered: notify your CSA and the "
                                    "FBI CJIS Division by phone.")
        return escalate_yq(confirmation.last.message, next_rno)

    def draft_yr(self, nic: str, status: str, *, confirm_by: str = "", remarks: str = ""
                 ) -> YqDraft:
        """The YR answering the agency queue's request for ``nic``."""
        operator, _ = self.session.require()
        for item in self.snapshot().queue:
            if item.nic == nic:
                return build_yr({**item.request, "rno": item.rno}, status,
                                responder_name=operator.name,
                                phone=self.settings.operator_phone,
                                confirm_by=confirm_by, remarks=remarks)
        raise ConfirmationError(f"No request to confirm NIC {nic} is in the queue.")

    def send(self, mke: str, draft: YqDraft, values: dict[str, str] | None = None
             ) -> dict[str, Any]:
        """Queue a YQ or YR (the operator may have edited the draft's values). The alerts it
        answers are acknowledged at the next :meth:`snapshot`, whichever way it was sent."""
        return self._send(mke, values or draft.values, dest=draft.dest)
