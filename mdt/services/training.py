"""The trainer's side of a class, headless: scenarios, events, faults, activity and the debrief
from the training gateway's trainer endpoints (``docs/scenarios.md``). Blocking: the console
calls it on a worker. No Qt.

Ready-made events for "inject now" are here too, so the console (and a script) make the same
ones: a detainer, an incoming hit confirmation request, a delayed hit, a destination-down
status, an administrative message.
"""

from __future__ import annotations

import uuid
from typing import Any

from mdt.services.network import Network
from mdt.services.session import Session

INJECTIONS = {
    "admin": "Administrative message",
    "detainer": "Detainer (LESC)",
    "incoming_yq": "Incoming hit confirmation request (YQ)",
    "delayed_hit": "Delayed hit",
    "destination_down": "Destination down (VA)",
    "lost_link": "Lost link (one trainee)",
}


def injection_events(kind: str, text: str = "") -> list[dict[str, Any]]:
    """The events one "inject now" puts into the chosen inboxes (synthetic subjects only)."""
    if kind == "admin":
        return [{"type": "admin", "from_ori": "TRAINING", "from_name": "Trainer",
                 "text": f"AM.TRAINEES.TRAINING\n\n{(text or 'CHECK IN WITH DISPATCH').upper()}"}]
    if kind == "detainer":
        number = f"DET-T{uuid.uuid4().hex[:6].upper()}"
        return [{"type": "detainer", "detainer_id": number,
                 "subject": {"name": "TALBRO, MIRELA V", "dob": "19881121", "sex": "F",
                             "citizenship": "AD", "a_number": "A200000003", "fbi": ""},
                 "issuing_office": "DHS ICE ENFORCEMENT AND REMOVAL OPERATIONS - TRAINING "
                                   "FIELD OFFICE", "basis": "FINAL ORDER OF REMOVAL",
                 "requested_action": {"notify_before_release": True, "hold_hours": 48},
                 "warrant": "I-205",
                 "contact": {"ori": "VTICE0900", "name": "ICE LESC", "phone": "802-555-0190"},
                 "related": {"message_id": None, "booking": "BK-TRAINING"},
                 "text": f"DET.TRAINING.VTICE0900\n\nNAM/TALBRO, MIRELA V DOB/19881121\n"
                         f"DET/{number}"}]
    if kind == "incoming_yq":
        return [{"type": "hit_confirmation_request", "rty": "SV", "rno": "1", "pri": "U",
                 "oca": "26-004513", "nic": "V260000002", "requesting_ori": "VA0290000",
                 "requesting_name": "DEPUTY PAT PRACTICE", "phone": "703-555-0129",
                 "remarks": text or "DRIVER DETAINED ON THIS HIT ONLY",
                 "data_set": {"LIC": "TRN5007", "LIS": "MD", "VMA": "DODG"},
                 "respond_in": 600,
                 "text": "YQ.TRAINING.VA0290000\n\nRTY/SV RNO/1 PRI/U OCA/26-004513 "
                         "NIC/V260000002\nLIC/TRN5007 LIS/MD VMA/DODG"}]
    if kind == "delayed_hit":
        return [{"type": "delayed_hit", "mke": "QW", "source": "NCIC",
                 "text": "DELAYED INQUIRY HIT\n\nMKE/WANTED PERSON\nNAM/KOLVEX, DRAYTON Q "
                         "DOB/19840312\nNIC/W260000001",
                 "records": [{"file": "WANTED", "hit": True, "nic": "W260000001",
                              "caution_codes": ["00"], "caveats": [
                                  "DELAYED INQUIRY: A NEW RECORD MATCHES AN EARLIER QUERY"],
                              "fields": {"ORI": "VA0290000", "NAM": "KOLVEX, DRAYTON Q",
                                         "DOB": "19840312", "OCA": "26-000777",
                                         "NIC": "W260000001"}}]}]
    if kind == "destination_down":
        return [{"type": "status", "status": "destination_down",
                 "text": "STATUS/VA DOWN - MESSAGES TO VA WILL BE FORWARDED"}]
    raise ValueError(f"unknown injection {kind!r}")


class TrainerDesk:
    def __init__(self, session: Session, network: Network) -> None:
        self.session = session
        self.network = network

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        self.session.require()
        return dict(self.network.run(self.network.client.training(method, path, body),
                                       timeout=30))

    def scenarios(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "scenarios").get("scenarios") or [])

    def start(self, name: str, users: list[str] | None, speed: float) -> dict[str, Any]:
        return self._call("POST", f"scenarios/{name}/start", {"users": users, "speed": speed})

    def pause(self) -> dict[str, Any]:
        return self._call("POST", "scenarios/pause", {})

    def resume(self) -> dict[str, Any]:
        return self._call("POST", "scenarios/resume", {})

    def reset(self, scenario: str | None = None) -> dict[str, Any]:
        return self._call("POST", "reset", {"scenario": scenario, "restart": False})

    def inject(self, kind: str, *, user: str | None = None, ori: str | None = None,
               text: str = "") -> dict[str, Any]:
        if kind == "lost_link":
            if not user:
                raise ValueError("Choose the trainee whose link to cut.")
            return self.set_faults({"offline": True}, user)
        body: dict[str, Any] = {"events": injection_events(kind, text)}
        if user:
            body["user"] = user
        if ori:
            body["ori"] = ori
        if kind == "destination_down":
            self.set_faults({"destinations_down": ["VA"]})
        return self._call("POST", "events", body)

    def set_faults(self, faults: dict[str, Any], user: str | None = None) -> dict[str, Any]:
        return self._call("PUT", "faults", {**faults, "user": user})

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "faults")

    def activity(self) -> dict[str, Any]:
        return self._call("GET", "activity?limit=50")

    def debrief(self) -> dict[str, Any]:
        return self._call("GET", "debrief")

    def picture(self) -> dict[str, Any]:
        """What the console shows, read at once: health, activity, debrief."""
        return {"health": self.network.health(), "activity": self.activity(),
                "debrief": self.debrief()}
