"""A case's status, derived from its events (a pure function: the events are the truth)."""
from __future__ import annotations

from collections.abc import Iterable


def case_status(events: Iterable[str], session_scheduled: bool = False) -> str:
    """The status after `events` (names in date order). One of `vocabulary.CASE_STATUSES`."""
    status = "new"
    certificate_pending = False
    for name in events:
        if name == "closed":
            return "closed"
        if name == "information-given" and status == "new":
            status = "information-given"
        elif name == "mediation-requested":
            status = "mediation-requested"
        elif name in ("mediation-declined", "la-cannot-arrange"):
            certificate_pending, status = True, "certificate-pending"
        elif name == "withdrawn":
            certificate_pending, status = True, "withdrawn"
        elif name == "mediation-concluded":
            certificate_pending, status = True, "mediation-concluded"
        elif name == "certificate-issued":
            certificate_pending, status = False, "certificate-issued"
    if session_scheduled and status in ("mediation-requested", "information-given", "new"):
        return "mediation-arranged"
    if certificate_pending and status == "mediation-concluded":
        return "certificate-pending"
    return status
