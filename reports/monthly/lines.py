"""The report's lists: the cases active in the month, the clocks due in it, and the first
meetings held late in the year to date — each line by case reference, never a name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.domain.calendar import WorkingCalendar
from reports.monthly.facts import CaseFacts, clock_result
from reports.monthly.rows import CertificateRow, ReportInput, between, sorted_by


@dataclass(frozen=True, slots=True)
class CaseLine:
    """A case active in the month (received, or anything recorded on it in the month); no names."""

    ref: str
    la_code: str
    service: str
    decision_type: str | None
    received_on: date
    status: str
    family_decision: str | None  # chose mediation | declined
    family_decision_on: date | None
    certificate_type: str | None
    certificate_issued_on: date | None
    certificate_on_time: bool | None
    first_meeting_on: date | None
    meeting_within_30_days: bool | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class ClockLine:
    """A clock due in the month and how it went: `result` met | met late | missed | open | not applicable."""

    ref: str
    la_code: str
    name: str
    owner: str
    due: date
    target: date
    met_on: date | None
    result: str
    working_days_late: int | None


@dataclass(frozen=True, slots=True)
class LateMeeting:
    """A first mediation meeting held after the LA's 30 days (or none recorded), with the reason."""

    ref: str
    la_code: str
    la_received_on: date
    due: date
    held_on: date
    days_late: int
    reason: str | None
    in_month: bool


def active_refs(data: ReportInput, start: date, end: date) -> set[str]:
    """Cases received in the period, or with an event, certificate, meeting or claim in it."""
    refs = {c.ref for c in data.cases if between(c.received_on, start, end)}
    refs |= {e.ref for e in data.events if between(e.on, start, end)}
    refs |= {c.ref for c in data.certificates if between(c.issued_on, start, end)}
    refs |= {
        s.ref
        for s in data.sessions
        if between(s.on, start, end) or between(s.cancelled_on, start, end) or between(s.outcome_on, start, end)
    }
    refs |= {c.ref for c in data.claims if between(c.received_on, start, end)}
    return refs


def case_lines(data: ReportInput, facts: CaseFacts, start: date, end: date) -> tuple[CaseLine, ...]:
    active = active_refs(data, start, end)
    latest_cert: dict[str, CertificateRow] = {}  # of the active cases only (memory)
    for c in sorted_by((c for c in data.certificates if c.ref in active), "issued_on", "type"):
        if c.issued_on <= end:
            latest_cert[c.ref] = c
    outcome: dict[str, str] = {}
    for s in sorted((s for s in data.sessions if s.ref in active), key=lambda s: (s.on, s.outcome_on or s.on)):
        if s.outcome:
            outcome[s.ref] = s.outcome
    lines = []
    for case in sorted((c for c in data.cases if c.ref in active), key=lambda c: c.ref):
        decision = facts.decision.get(case.ref) if case.service == "mediation" else None
        cert = latest_cert.get(case.ref)
        check = facts.meeting_check(case.ref)
        lines.append(
            CaseLine(
                ref=case.ref,
                la_code=case.la_code,
                service=case.service,
                decision_type=case.decision_type,
                received_on=case.received_on,
                status=case.status,
                family_decision=decision[0] if decision else None,
                family_decision_on=decision[1] if decision else None,
                certificate_type=cert.type if cert else None,
                certificate_issued_on=cert.issued_on if cert else None,
                certificate_on_time=facts.certificate_on_time(cert) if cert else None,
                first_meeting_on=facts.first_held.get(case.ref),
                meeting_within_30_days=(check[2] <= 0) if check else None,
                outcome=outcome.get(case.ref),
            )
        )
    return tuple(lines)


def clock_lines(data: ReportInput, calendar: WorkingCalendar, start: date, end: date) -> tuple[ClockLine, ...]:
    lines = []
    for c in sorted_by(data.clocks, "due", "ref", "name"):
        if not between(c.due, start, end):
            continue
        result, late = clock_result(c, end, calendar)
        lines.append(ClockLine(c.ref, c.la_code, c.name, c.owner, c.due, c.target, c.met_on, result, late))
    return tuple(lines)


def late_meetings(
    facts: CaseFacts, data: ReportInput, month: tuple[date, date], ytd_start: date
) -> tuple[LateMeeting, ...]:
    held_in_year = {ref: held for ref, held in facts.first_held.items() if between(held, ytd_start, month[1])}
    la_of = {c.ref: c.la_code for c in data.cases if c.ref in held_in_year}
    lines = []
    for ref, held in sorted(held_in_year.items(), key=lambda p: (p[1], p[0])):
        if ref not in la_of:
            continue
        check = facts.meeting_check(ref)
        if check is None or check[2] <= 0:
            continue
        reason = facts.breach_reason(ref)
        lines.append(
            LateMeeting(ref, la_of[ref], check[0], check[1], held, check[2], reason, in_month=between(held, *month))
        )
    return tuple(lines)
