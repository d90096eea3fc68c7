"""Issue 14 (memory): the loader keeps of each case's events only those a figure reads
(`facts.events_read`). On random histories (ties on a day, both decisions, several receipts,
breach reasons, DRS cases, cases with and without meetings), `CaseFacts` and the month's active
cases from the cut events equal those from every event."""

from __future__ import annotations

import random
from datetime import date, timedelta

from models.domain.calendar import WorkingCalendar
from reports.monthly.facts import CaseFacts, events_read, first_meetings
from reports.monthly.lines import active_refs
from reports.monthly.rows import CaseRow, EventRow, LaInfo, ReportInput, SessionRow

TYPES = (
    "mediation-requested",
    "mediation-declined",
    "mediation-concluded",
    "la-received-request",
    "icb-received-request",
    "certificate-issued",
    "withdrawn",
    "closed",
    "information-given",
)
MONTH = (date(2026, 10, 1), date(2026, 10, 31))


def _history(rng: random.Random) -> tuple[list[CaseRow], list[SessionRow], list[EventRow]]:
    cases, sessions, events = [], [], []
    for n in range(400):
        ref = f"C{n:04d}"
        cases.append(CaseRow(ref, "E1", rng.choice(("mediation", "mediation", "drs")), None, date(2026, 1, 1), "open"))
        for _ in range(rng.randrange(3)):
            day = date(2026, 6, 1) + timedelta(days=rng.randrange(180))
            sessions.append(SessionRow(ref, "E1", day, rng.choice(("held", "cancelled", "scheduled"))))
        for _ in range(rng.randrange(12)):  # few days: ties on (day, type) and between types
            day = date(2026, 9, 20) + timedelta(days=rng.randrange(30) * rng.randrange(4))
            detail = rng.choice((None, None, {"reason": rng.choice((" ill ", "", 3))}, {"breach_reason": "room"}))
            events.append(EventRow(ref, "E1", rng.choice(TYPES), day, None, detail))
    events.sort(key=lambda e: (e.ref, e.on))  # the loader's order: by day, then id (here: list order)
    return cases, sessions, events


def _facts(data: ReportInput) -> tuple:
    facts = CaseFacts(data, WorkingCalendar(frozenset()))
    refs = [c.ref for c in data.cases]
    return (
        facts.decision,
        facts.first_held,
        facts.held_fallback,
        {ref: facts.meeting_check(ref) for ref in refs},
        {ref: facts.breach_reason(ref) for ref in refs},
        active_refs(data, *MONTH),
    )


def test_the_events_read_give_the_facts_of_every_event():
    for seed in range(8):
        cases, sessions, events = _history(random.Random(seed))
        full = ReportInput("2026-10", (LaInfo("E1", "LA"),), tuple(cases), tuple(events), (), tuple(sessions))
        meetings = first_meetings(cases, sessions)
        service = {c.ref: c.service for c in cases}
        for known in (True, False):
            cut: list[EventRow] = []
            for ref in sorted(service):
                mine = [e for e in events if e.ref == ref]
                default = (service[ref] != "mediation", None)
                cut += events_read(mine, *MONTH, meetings.get(ref, default) if known else None)
            assert len(cut) < len(events)
            assert _facts(_replace(full, cut)) == _facts(full), seed


def _replace(data: ReportInput, events: list[EventRow]) -> ReportInput:
    return ReportInput(data.month, data.las, data.cases, tuple(events), data.certificates, data.sessions)
