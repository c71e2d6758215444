""""Run this person / plate / VIN": the queries a record in a return invites. No Qt.

From any record, offer the follow-up queries an operator would type next, prefilled from the
record's own fields: a person (QW on name + date of birth), a plate (QV on plate + state), a VIN
(QV), a driver licence (DQ to the licence's state) and an A-number (IAQ). The operator still sends
them: a follow-up opens a form, it does not go out by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FollowUp:
    label: str
    mke: str
    values: dict[str, str] = field(default_factory=dict)
    dest: tuple[str, ...] = ()


def follow_ups(record: dict[str, Any]) -> list[FollowUp]:
    fields = {str(k).upper(): str(v).strip() for k, v in (record.get("fields") or {}).items()
              if "#" not in str(k) and str(v).strip()}
    found: list[FollowUp] = []
    name, dob = fields.get("NAM"), fields.get("DOB")
    if name and dob:
        values = {"NAM": name, "DOB": dob}
        if fields.get("SEX"):
            values["SEX"] = fields["SEX"]
        found.append(FollowUp(f"Run this person: {name} {dob}", "QW", values))
    if fields.get("LIC") and fields.get("LIS"):
        found.append(FollowUp(f"Run this plate: {fields['LIC']} ({fields['LIS']})", "QV",
                              {"LIC": fields["LIC"], "LIS": fields["LIS"]}))
    if fields.get("VIN"):
        found.append(FollowUp(f"Run this VIN: {fields['VIN']}", "QV", {"VIN": fields["VIN"]}))
    if fields.get("OLN") and fields.get("OLS"):
        found.append(FollowUp(f"Run this licence: {fields['OLN']} ({fields['OLS']})", "DQ",
                              {"OLN": fields["OLN"]}, (fields["OLS"],)))
    arn = fields.get("ARN") or (fields["MNU"][3:] if fields.get("MNU", "").startswith("AR-")
                                else "")
    if arn and name and dob:
        found.append(FollowUp(f"Immigration query (IAQ) on A-number {arn}", "IAQ",
                              {"ARN": arn, "NAM": name, "SEX": fields.get("SEX", ""),
                               "DOB": dob}))
    return found
