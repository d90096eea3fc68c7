"""Per-case facts the figures share, derived once from a report's rows, and how a clock went."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from operator import attrgetter

from models.domain.calendar import WorkingCalendar
from models.domain.rules import ruleset_for
from reports.monthly.rows import CaseRow, CertificateRow, ClockRow, EventRow, ReportInput, SessionRow

BREACH_REASON_KEYS = ("breach_reason", "reason")  # keys looked up in a case event's `detail`
_CERT_PERIOD = {
    "declined": "certificate_declined_wd",
    "withdrawn": "certificate_withdrawn_wd",
    "deemed": "certificate_deemed_wd",
    "after-mediation": "certificate_after_mediation_wd",
}
_DECISIONS = {"mediation-requested": "chose mediation", "mediation-declined": "declined"}
#: the event types whose rows the per-case facts read (decisions, meetings held, the LA's receipt
#: of a request) and that certificates are built from (`certificate-issued` and its triggers). A
#: case's event of another type counts for two things only: being in the month (an active case)
#: and its `detail` (a breach reason) — the loader reads those by date and by detail.
EVENTS_READ = frozenset(
    {
        *_DECISIONS,
        "mediation-concluded",
        "la-received-request",
        "icb-received-request",
        "certificate-issued",
        "withdrawn",
        "la-cannot-arrange",
    }
)

_RECEIPTS = ("la-received-request", "icb-received-request")


def _reason(event: EventRow) -> str | None:
    """The breach reason an event's `detail` carries, if any."""
    for key in BREACH_REASON_KEYS:
        value = (event.detail or {}).get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def events_read(
    events: Sequence[EventRow], first: date, last: date, meetings: tuple[bool, date | None] | None = None
) -> list[EventRow]:
    """Of ONE case's events (the loader's order: by day, then id), the ones a figure can read,
    in the same order — the loader keeps only those (issue 14, memory): the first decision, the
    last event with a breach reason (first/last in `CaseFacts`' order), every event dated
    `first`..`last` (the month: an active case), and for the first meeting's check: the first
    `mediation-concluded` and every LA/ICB receipt — or, given the case's `meetings` (whether it
    has session rows, its first held one's day; (True, None) for a DRS case), the first
    `mediation-concluded` only when it stands in for the meeting (no session rows) and the last
    LA and last ICB receipt on or before the first meeting. `CaseFacts` and the case list give
    the same from these as from all of them (`tests/unit/test_monthly_events_read.py`)."""
    order = sorted(events, key=lambda e: (e.on, e.event))  # stable: CaseFacts' order
    keep = {id(e) for e in events if first <= e.on <= last}
    concluded = next((e for e in order if e.event == "mediation-concluded"), None)
    picks = [
        next((e for e in order if e.event in _DECISIONS), None),
        next((e for e in reversed(order) if _reason(e) is not None), None),
    ]
    if meetings is None:
        picks.append(concluded)
        keep.update(id(e) for e in events if e.event in _RECEIPTS)
    else:
        with_sessions, held = meetings
        if not with_sessions and concluded is not None:
            picks.append(concluded)
            held = concluded.on
        if held is not None:
            for kind in _RECEIPTS:
                picks.append(next((e for e in reversed(order) if e.event == kind and e.on <= held), None))
    keep.update(id(e) for e in picks if e is not None)
    return [e for e in events if id(e) in keep]


def first_meetings(cases: Iterable[CaseRow], sessions: Iterable[SessionRow]) -> dict[str, tuple[bool, date | None]]:
    """`events_read`'s `meetings`: (has session rows, first held meeting's day) of each case with
    session rows; a DRS case has none that counts (a DRS meeting is not a mediation)."""
    drs = {c.ref for c in cases if c.service != "mediation"}
    held: dict[str, date | None] = {}
    for s in sessions:
        first = held.get(s.ref)
        if s.status == "held" and s.ref not in drs and (first is None or s.on < first):
            held[s.ref] = s.on
        else:
            held.setdefault(s.ref, None)
    return {ref: (True, on) for ref, on in held.items()}


class CaseFacts:
    """Per-case facts derived once from the rows: each case's first decision, first meeting held,
    whether its certificate and first meeting were on time, and its breach reason.

    Events are read in (day, type) order, ties in the rows' order (the loader's: by id); only the
    facts are kept, not the events (issue 14, memory): the first decision, the first
    `mediation-concluded`, the last breach reason, and the request's receipt the first meeting
    is checked from (`meeting_start`: the last LA receipt on or before it, else the last ICB one)."""

    def __init__(self, data: ReportInput, calendar: WorkingCalendar) -> None:
        self.cal = calendar
        events = sorted(data.events, key=attrgetter("event"))  # then by day, stable: by (day, type), no key tuples
        events.sort(key=attrgetter("on"))
        self.decision: dict[str, tuple[str, date]] = {}
        shared: dict[tuple[str, date], tuple[str, date]] = {}
        concluded: dict[str, date] = {}
        self.reasons: dict[str, str] = {}
        for e in events:
            if e.event in _DECISIONS and e.ref not in self.decision:
                decision = (_DECISIONS[e.event], e.on)
                self.decision[e.ref] = shared.setdefault(decision, decision)  # one tuple per (kind, day)
            elif e.event == "mediation-concluded" and e.ref not in concluded:
                concluded[e.ref] = e.on
            if e.detail and (reason := _reason(e)) is not None:
                self.reasons[e.ref] = reason  # the last one stays
        self.mediation_refs = {c.ref for c in data.cases if c.service == "mediation"}
        self.first_held, self.held_fallback = self._first_meetings(data, concluded)
        received: tuple[dict[str, date], dict[str, date]] = ({}, {})
        for e in events:
            held = self.first_held.get(e.ref) if e.event in _RECEIPTS else None
            if held is not None and e.on <= held:
                received[_RECEIPTS.index(e.event)][e.ref] = e.on  # the last one stays
        self.meeting_start = {**received[1], **received[0]}  # the LA's receipt, else the ICB's

    def _first_meetings(self, data: ReportInput, concluded: dict[str, date]) -> tuple[dict[str, date], dict[str, date]]:
        """The first meeting held per *mediation* case (a DRS meeting is not a mediation and has no
        30-day duty): held sessions; a case with no session rows at all falls back to its first
        `mediation-concluded` event (the second dict: those fallbacks)."""
        with_sessions = {s.ref for s in data.sessions}
        held: dict[str, date] = {}
        for s in data.sessions:
            if s.ref in self.mediation_refs and s.status == "held" and (s.ref not in held or s.on < held[s.ref]):
                held[s.ref] = s.on
        fallback = {ref: on for ref, on in concluded.items() if ref not in with_sessions and ref in self.mediation_refs}
        held.update(fallback)
        return held, fallback

    def certificate_due(self, cert: CertificateRow) -> date | None:
        if cert.trigger_on is None or cert.type not in _CERT_PERIOD:
            return None
        rules = ruleset_for(cert.trigger_on)
        return self.cal.add_working_days(cert.trigger_on, getattr(rules, _CERT_PERIOD[cert.type]))

    def certificate_on_time(self, cert: CertificateRow) -> bool | None:
        due = self.certificate_due(cert)
        return None if due is None else cert.issued_on <= due

    def meeting_check(self, ref: str) -> tuple[date, date, int] | None:
        """(LA received on, due, days late (<= 0 on time)) for the case's first held meeting."""
        held = self.first_held.get(ref)
        if held is None:
            return None
        start = self.meeting_start.get(ref)
        if start is None:
            return None
        due = start + timedelta(days=ruleset_for(start).mediation_within_days)
        return start, due, (held - due).days

    def breach_reason(self, ref: str) -> str | None:
        return self.reasons.get(ref)


def clock_result(clock: ClockRow, as_of: date, calendar: WorkingCalendar) -> tuple[str, int | None]:
    """How `clock` went, judged at `as_of` (the month's end): (result, working days late).

    met on or before `due` -> ("met", 0); met after -> ("met late", WD from due to met_on);
    not met and `as_of` after its target (or stored missed) -> ("missed", WD from due to `as_of`);
    else ("open", None); state not_applicable -> ("not applicable", None). The family's
    `appeal_deadline` is nobody's failure: not met (no appeal recorded) and past is ("passed", None).
    """
    if clock.state == "not_applicable":
        return "not applicable", None
    if clock.name == "appeal_deadline" and clock.met_on is None and clock.state != "met":
        return ("passed", None) if as_of > clock.target else ("open", None)
    if clock.met_on is not None:
        if clock.met_on <= clock.due:
            return "met", 0
        return "met late", calendar.working_days_between(clock.due, clock.met_on)
    if clock.state == "met":  # met without a date (e.g. the appeal was lodged)
        return "met", 0
    if clock.state == "missed" or as_of > clock.target:
        return "missed", max(calendar.working_days_between(clock.due, max(as_of, clock.due)), 0)
    return "open", None
