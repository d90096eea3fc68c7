"""A case's status, derived from its events (a pure function: the events are the truth)."""

from __future__ import annotations

from collections.abc import Iterable


def case_status(events: Iterable[str], session_scheduled: bool = False) -> str:
    """The status after `events` (names in date order). One of `vocabulary.CASE_STATUSES`.

    The latest status-changing event decides: `mediation-declined` / `la-cannot-arrange` →
    `certificate-pending` (the family is owed a certificate); `withdrawn` → `withdrawn`;
    `mediation-concluded` → `mediation-concluded` (its after-mediation certificate is due) until
    a certificate is issued (`certificate-issued`) or the case is closed; `closed` ends it. A
    scheduled meeting makes a new, informed or requested case `mediation-arranged`.
    """
    status = "new"
    for name in events:
        if name == "closed":
            return "closed"
        if name == "information-given" and status == "new":
            status = "information-given"
        elif name == "mediation-requested":
            status = "mediation-requested"
        elif name in ("mediation-declined", "la-cannot-arrange"):
            status = "certificate-pending"
        elif name == "withdrawn":
            status = "withdrawn"
        elif name == "mediation-concluded":
            status = "mediation-concluded"
        elif name == "certificate-issued":
            status = "certificate-issued"
    if session_scheduled and status in ("mediation-requested", "information-given", "new"):
        return "mediation-arranged"
    return status
