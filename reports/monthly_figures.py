"""The monthly report's figures, from plain rows: pure, deterministic, no I/O, never reads the clock.

`build_report(data, calendar)` turns a `ReportInput` (frozen rows loaded by
`tasks.reporting.monthly`) into a `MonthlyReport`: every figure for the month and for the
year to date, overall and per local authority, each a `Figure` with its **count and
denominator** so a commissioner can check it, plus the case list, the clocks due in the
month and the late first meetings with their breach reasons.

Periods (dates are Europe/London local dates):

* **month**: the calendar month `YYYY-MM`, first to last day inclusive;
* **year to date**: the UK financial year the month falls in — from 1 April (of the same
  year for April–December, of the year before for January–March) to the month's last day.
  LA contracts and budgets run on financial years.

Only non-personal columns are used (references, codes, dates, states, amounts), so the
figures survive the retention job that nulls a case's personal details.

Every definition below is also written, in plain words, on the workbook's cover sheet
(`DEFINITIONS`); change both together.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from models.domain.calendar import WorkingCalendar, add_months
from models.domain.rules import ruleset_for
from models.domain.vocabulary import CERTIFICATE_TYPES, DECISION_TYPES, OUTCOMES

__all__ = [
    "CANCELLED_BY",
    "CLAIM_STATUSES",
    "DEFINITIONS",
    "CaseLine",
    "CaseRow",
    "CertificateRow",
    "ClaimRow",
    "ClockLine",
    "ClockRow",
    "EventRow",
    "Figure",
    "LaInfo",
    "LateMeeting",
    "MonthlyReport",
    "ReportInput",
    "ScopeFigures",
    "SessionRow",
    "TrendPoint",
    "build_report",
    "clock_result",
    "financial_year_start",
    "headline_kpis",
    "month_bounds",
    "parse_month",
    "previous_month",
]

CLAIM_STATUSES = ("pending", "approved", "query", "held", "rejected", "sent", "paid")
CANCELLED_BY = ("family", "la", "icb", "service", "unknown")
BREACH_REASON_KEYS = ("breach_reason", "reason")  # keys looked up in a case event's `detail`
_CERT_PERIOD = {
    "declined": "certificate_declined_wd",
    "withdrawn": "certificate_withdrawn_wd",
    "deemed": "certificate_deemed_wd",
    "after-mediation": "certificate_after_mediation_wd",
}


# --- periods ---------------------------------------------------------------------------------
def parse_month(text: str) -> date:
    """The first day of month `YYYY-MM`; `ValueError` naming the text otherwise."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise ValueError(f"month {text!r} is not YYYY-MM") from None


def month_bounds(first: date) -> tuple[date, date]:
    """(first day, last day) of the month containing `first`."""
    start = first.replace(day=1)
    return start, start.replace(day=_stdlib_calendar.monthrange(start.year, start.month)[1])


def previous_month(today: date) -> str:
    """`YYYY-MM` of the month just ended relative to `today` (1 Dec 2026 -> 2026-11)."""
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def financial_year_start(day: date) -> date:
    """1 April of the UK financial year containing `day`."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


# --- input rows (what the loader reads; non-personal columns only) -----------------------------
@dataclass(frozen=True)
class LaInfo:
    code: str
    name: str


@dataclass(frozen=True)
class CaseRow:
    ref: str
    la_code: str
    service: str  # mediation | drs
    decision_type: str | None
    received_on: date
    status: str


@dataclass(frozen=True)
class EventRow:
    ref: str
    la_code: str
    event: str
    on: date
    cert_type: str | None = None
    detail: Mapping[str, object] | None = None


@dataclass(frozen=True)
class CertificateRow:
    """A certificate issued (status `issued`); `trigger_on` None when its trigger is unknown."""

    ref: str
    la_code: str
    type: str
    issued_on: date
    trigger_on: date | None


@dataclass(frozen=True)
class SessionRow:
    """A mediation meeting: `on` is its local date; `cancelled_on` the local date it was cancelled."""

    ref: str
    la_code: str
    on: date
    status: str  # scheduled | held | cancelled
    cancelled_by: str | None = None
    cancelled_on: date | None = None
    outcome: str | None = None
    outcome_on: date | None = None


@dataclass(frozen=True)
class ClockRow:
    ref: str
    la_code: str
    name: str
    owner: str
    due: date
    target: date
    state: str
    met_on: date | None = None


@dataclass(frozen=True)
class ClaimRow:
    """An expense claim line: `received_on` the local date it was imported."""

    ref: str
    la_code: str
    received_on: date
    session_date: date
    status: str
    amount_pence: int


@dataclass(frozen=True)
class ReportInput:
    """Everything one report is built from. `for_la(code)` keeps only that LA's rows."""

    month: str
    las: tuple[LaInfo, ...]
    cases: tuple[CaseRow, ...] = ()
    events: tuple[EventRow, ...] = ()
    certificates: tuple[CertificateRow, ...] = ()
    sessions: tuple[SessionRow, ...] = ()
    clocks: tuple[ClockRow, ...] = ()
    claims: tuple[ClaimRow, ...] = ()

    def for_la(self, code: str) -> ReportInput:
        def keep(rows):
            return tuple(r for r in rows if r.la_code == code)

        return ReportInput(
            month=self.month,
            las=tuple(la for la in self.las if la.code == code),
            cases=keep(self.cases),
            events=keep(self.events),
            certificates=keep(self.certificates),
            sessions=keep(self.sessions),
            clocks=keep(self.clocks),
            claims=keep(self.claims),
        )


# --- output ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """One measure: `count` of `denominator` (a total is its own denominator); money in pence."""

    key: str
    section: str
    label: str
    count: int
    denominator: int
    amount_pence: int | None = None

    @property
    def ratio(self) -> float | None:
        """count / denominator, or None when the denominator is 0."""
        return self.count / self.denominator if self.denominator else None


@dataclass(frozen=True)
class TrendPoint:
    month: str  # YYYY-MM
    issued: int
    with_trigger: int
    on_time: int

    @property
    def ratio(self) -> float | None:
        return self.on_time / self.with_trigger if self.with_trigger else None


@dataclass(frozen=True)
class ScopeFigures:
    """The figures of one scope (all LAs, or one LA) for the month and the year to date."""

    code: str  # "ALL" or the LA's ONS code
    name: str
    month: tuple[Figure, ...]
    ytd: tuple[Figure, ...]
    trend: tuple[TrendPoint, ...]

    def get(self, key: str, period: str = "month") -> Figure:
        for f in self.month if period == "month" else self.ytd:
            if f.key == key:
                return f
        raise KeyError(key)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    month_start: date
    month_end: date
    ytd_start: date
    scope: ScopeFigures  # all LAs in `las` together
    by_la: tuple[ScopeFigures, ...]
    case_lines: tuple[CaseLine, ...]
    clock_lines: tuple[ClockLine, ...]
    late_meetings: tuple[LateMeeting, ...]
    single_la: bool = field(default=False)


# --- definitions (the cover sheet) -----------------------------------------------------------
DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Periods",
        "Month: the calendar month, first to last day. Year to date: the UK financial year from "
        "1 April to the month's last day. All dates are UK local dates.",
    ),
    (
        "Count and denominator",
        "Every figure is a count out of a denominator, and the percentage is count ÷ "
        "denominator. A total is shown as its own denominator (100%). A blank "
        "percentage means the denominator is 0.",
    ),
    (
        "Referrals received",
        "Cases whose referral was received in the period, by service (mediation, DRS); "
        "the decision types are out of the mediation referrals.",
    ),
    (
        "Family decisions",
        "Mediation cases whose family first told us in the period whether they want mediation: "
        "chose mediation (asked for it) or declined, out of all families who decided.",
    ),
    (
        "Certificates issued",
        "Mediation certificates issued in the period, by type. 'Within 3 working days' counts "
        "certificates issued no later than the statutory period (3 working days, bank holidays "
        "excluded, the trigger day not counted) after their trigger (declined, withdrawn, LA "
        "cannot arrange, mediation concluded), out of the certificates whose trigger date is known.",
    ),
    (
        "Mediation meetings held",
        "Mediation meetings held in the period (meetings of DRS cases are not mediations "
        "and are not counted here). 'Within 30 days' takes each case's first meeting held in "
        "the period and checks it was held no later than 30 calendar days after the LA (or ICB) "
        "received the family's request; the denominator is the first meetings with a known "
        "receipt date. Late first meetings are listed with the breach reason recorded on the case.",
    ),
    ("Outcomes", "Meetings whose outcome was recorded in the period: agreed, partial agreement, not agreed."),
    (
        "Agreement follow-ups",
        "Follow-up deadlines from written mediation agreements (reg 42 and 44) due in the "
        "period and met on time, out of those due (not-applicable ones left out).",
    ),
    (
        "Sessions cancelled",
        "Meetings that were due to take place in the period and were cancelled, out of all "
        "meetings due in the period that were held or cancelled; then by who cancelled.",
    ),
    (
        "Expense claims",
        "Claim lines received (imported) in the period, by their status today, with the amounts; "
        "out of all claim lines received in the period.",
    ),
    (
        "Clocks",
        "Every deadline due in the month: met (on or before the due date), met late, missed (not met, "
        "as at the month's end) or open, and by how many working days it was late. The family's appeal "
        "deadline shows 'passed' when no appeal was recorded by then: it is not a failure of the service or the LA.",
    ),
    (
        "Personal data",
        "None: cases appear by reference only. Figures use no personal details, so they stay the "
        "same after personal data is anonymised.",
    ),
)


# --- the build ---------------------------------------------------------------------------------
class _Facts:
    """Per-case facts derived once from the rows (dates of the first decision, meeting, ...)."""

    def __init__(self, data: ReportInput, calendar: WorkingCalendar) -> None:
        self.cal = calendar
        events = defaultdict(list)
        for e in sorted(data.events, key=lambda e: (e.on, e.event)):
            events[e.ref].append(e)
        self.events = events
        self.decision: dict[str, tuple[str, date]] = {}
        for ref, evs in events.items():
            first = next((e for e in evs if e.event in ("mediation-requested", "mediation-declined")), None)
            if first is not None:
                self.decision[ref] = (
                    "chose mediation" if first.event == "mediation-requested" else "declined",
                    first.on,
                )
        # first meeting held per *mediation* case (a DRS meeting is not a mediation and has no
        # 30-day duty): held sessions; a case with no session rows at all falls back to its first
        # `mediation-concluded` event
        self.mediation_refs = {c.ref for c in data.cases if c.service == "mediation"}
        with_sessions = {s.ref for s in data.sessions}
        held: dict[str, date] = {}
        for s in data.sessions:
            if s.ref in self.mediation_refs and s.status == "held" and (s.ref not in held or s.on < held[s.ref]):
                held[s.ref] = s.on
        self.held_fallback: dict[str, date] = {}
        for ref, evs in events.items():
            if ref not in with_sessions and ref in self.mediation_refs:
                concluded = next((e.on for e in evs if e.event == "mediation-concluded"), None)
                if concluded is not None:
                    held[ref] = concluded
                    self.held_fallback[ref] = concluded
        self.first_held = held

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
        evs = self.events.get(ref, [])
        starts = [e for e in evs if e.event == "la-received-request" and e.on <= held]
        if not starts:
            starts = [e for e in evs if e.event == "icb-received-request" and e.on <= held]
        if not starts:
            return None
        start = starts[-1].on
        due = start + timedelta(days=ruleset_for(start).mediation_within_days)
        return start, due, (held - due).days

    def breach_reason(self, ref: str) -> str | None:
        for e in reversed(self.events.get(ref, [])):
            for key in BREACH_REASON_KEYS:
                value = (e.detail or {}).get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
        return None


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


def _between(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def _figures(data: ReportInput, facts: _Facts, start: date, end: date) -> tuple[Figure, ...]:
    out: list[Figure] = []

    def add(key: str, section: str, label: str, count: int, denominator: int, amount: int | None = None) -> None:
        out.append(Figure(key, section, label, count, denominator, amount))

    # Referrals
    received = [c for c in data.cases if _between(c.received_on, start, end)]
    mediation = [c for c in received if c.service == "mediation"]
    section = "Referrals received"
    add("referrals_total", section, "Referrals received", len(received), len(received))
    add("referrals_mediation", section, "Mediation referrals", len(mediation), len(received))
    add(
        "referrals_drs",
        section,
        "Disagreement resolution (DRS) referrals",
        sum(c.service == "drs" for c in received),
        len(received),
    )
    by_type = Counter(c.decision_type for c in mediation)
    for code in DECISION_TYPES:
        add(
            f"referrals_decision_{code}",
            section,
            f"Mediation: decision {code.replace('_', ' ')}",
            by_type.get(code, 0),
            len(mediation),
        )
    add(
        "referrals_decision_unknown",
        section,
        "Mediation: decision type not recorded",
        sum(n for k, n in by_type.items() if k not in DECISION_TYPES),
        len(mediation),
    )

    # Family decisions
    section = "Family decisions"
    mediation_refs = {c.ref for c in data.cases if c.service == "mediation"}
    decided = [(ref, d) for ref, d in facts.decision.items() if ref in mediation_refs and _between(d[1], start, end)]
    chose = sum(d[0] == "chose mediation" for _, d in decided)
    add("decisions_total", section, "Families who decided", len(decided), len(decided))
    add("decisions_chose_mediation", section, "Chose mediation", chose, len(decided))
    add("decisions_declined", section, "Declined mediation", len(decided) - chose, len(decided))

    # Certificates
    section = "Certificates"
    certs = [c for c in data.certificates if _between(c.issued_on, start, end)]
    on_time = [facts.certificate_on_time(c) for c in certs]
    add("certificates_total", section, "Certificates issued", len(certs), len(certs))
    for kind in CERTIFICATE_TYPES:
        add(
            f"certificates_{kind}",
            section,
            f"Certificates issued: {kind}",
            sum(c.type == kind for c in certs),
            len(certs),
        )
    known = [t for t in on_time if t is not None]
    add("certificates_on_time", section, "Issued within 3 working days of the trigger", sum(known), len(known))
    for kind in CERTIFICATE_TYPES:
        these = [t for c, t in zip(certs, on_time) if c.type == kind and t is not None]
        add(f"certificates_on_time_{kind}", section, f"{kind}: within 3 working days", sum(these), len(these))

    # Meetings
    section = "Mediation meetings"
    held_sessions = [
        s for s in data.sessions if s.status == "held" and s.ref in facts.mediation_refs and _between(s.on, start, end)
    ]
    held_total = len(held_sessions) + sum(_between(d, start, end) for d in facts.held_fallback.values())
    add("meetings_held", section, "Mediation meetings held", held_total, held_total)
    firsts = [ref for ref, d in facts.first_held.items() if _between(d, start, end)]
    checks = [c for c in (facts.meeting_check(ref) for ref in sorted(firsts)) if c is not None]
    late_refs = [ref for ref in sorted(firsts) if (c := facts.meeting_check(ref)) is not None and c[2] > 0]
    add(
        "meetings_within_30_days",
        section,
        "First meetings held within 30 days of the LA receiving the request",
        sum(c[2] <= 0 for c in checks),
        len(checks),
    )
    add(
        "meetings_late_reason_recorded",
        section,
        "Late first meetings with a breach reason recorded",
        sum(facts.breach_reason(ref) is not None for ref in late_refs),
        len(late_refs),
    )

    # Outcomes
    section = "Outcomes"
    outcomes = [s for s in data.sessions if s.outcome and _between(s.outcome_on, start, end)]
    add("outcomes_total", section, "Meetings with an outcome recorded", len(outcomes), len(outcomes))
    labels = {"agreed": "Agreed", "partial": "Partial agreement", "not-agreed": "Not agreed"}
    for code in OUTCOMES:
        add(
            f"outcomes_{code.replace('-', '_')}",
            section,
            labels.get(code, code),
            sum(s.outcome == code for s in outcomes),
            len(outcomes),
        )

    # Agreement follow-ups
    section = "Agreement follow-ups"
    follow_ups = [c for c in data.clocks if c.name.startswith("agreement_") and _between(c.due, start, end)]
    results = [clock_result(c, end, facts.cal)[0] for c in follow_ups]
    results = [r for r in results if r != "not applicable"]
    add("followups_met", section, "Agreement follow-ups due and met on time", results.count("met"), len(results))

    # Cancellations
    section = "Sessions cancelled"
    due_sessions = [s for s in data.sessions if s.status in ("held", "cancelled") and _between(s.on, start, end)]
    cancelled = [s for s in due_sessions if s.status == "cancelled"]
    add("sessions_cancelled", section, "Meetings cancelled", len(cancelled), len(due_sessions))
    who = Counter(s.cancelled_by if s.cancelled_by in CANCELLED_BY else "unknown" for s in cancelled)
    names = {
        "family": "by the family",
        "la": "by the LA",
        "icb": "by the ICB",
        "service": "by the service",
        "unknown": "by: not recorded",
    }
    for code in CANCELLED_BY:
        add(f"cancelled_by_{code}", section, f"Cancelled {names[code]}", who.get(code, 0), len(cancelled))

    # Claims
    section = "Expense claims"
    claims = [c for c in data.claims if _between(c.received_on, start, end)]
    add("claims_total", section, "Claim lines received", len(claims), len(claims), sum(c.amount_pence for c in claims))
    statuses = list(CLAIM_STATUSES) + sorted({c.status for c in claims} - set(CLAIM_STATUSES))
    for status in statuses:
        these = [c for c in claims if c.status == status]
        add(
            f"claims_{status}", section, f"Claims {status}", len(these), len(claims), sum(c.amount_pence for c in these)
        )
    return tuple(out)


def _trend(data: ReportInput, facts: _Facts, month_start: date) -> tuple[TrendPoint, ...]:
    points = []
    for back in range(11, -1, -1):
        first, last = month_bounds(add_months(month_start, -back))
        certs = [c for c in data.certificates if _between(c.issued_on, first, last)]
        known = [t for t in (facts.certificate_on_time(c) for c in certs) if t is not None]
        points.append(TrendPoint(f"{first.year:04d}-{first.month:02d}", len(certs), len(known), sum(known)))
    return tuple(points)


def _scope(
    data: ReportInput, calendar: WorkingCalendar, code: str, name: str, month: tuple[date, date], ytd_start: date
) -> ScopeFigures:
    facts = _Facts(data, calendar)
    return ScopeFigures(
        code=code,
        name=name,
        month=_figures(data, facts, *month),
        ytd=_figures(data, facts, ytd_start, month[1]),
        trend=_trend(data, facts, month[0]),
    )


def _active_refs(data: ReportInput, start: date, end: date) -> set[str]:
    refs = {c.ref for c in data.cases if _between(c.received_on, start, end)}
    refs |= {e.ref for e in data.events if _between(e.on, start, end)}
    refs |= {c.ref for c in data.certificates if _between(c.issued_on, start, end)}
    refs |= {
        s.ref
        for s in data.sessions
        if _between(s.on, start, end) or _between(s.cancelled_on, start, end) or _between(s.outcome_on, start, end)
    }
    refs |= {c.ref for c in data.claims if _between(c.received_on, start, end)}
    return refs


def _case_lines(data: ReportInput, facts: _Facts, start: date, end: date) -> tuple[CaseLine, ...]:
    active = _active_refs(data, start, end)
    latest_cert: dict[str, CertificateRow] = {}
    for c in sorted(data.certificates, key=lambda c: (c.issued_on, c.type)):
        if c.issued_on <= end:
            latest_cert[c.ref] = c
    outcome: dict[str, str] = {}
    for s in sorted(data.sessions, key=lambda s: (s.on, s.outcome_on or s.on)):
        if s.outcome:
            outcome[s.ref] = s.outcome
    lines = []
    for case in sorted(data.cases, key=lambda c: c.ref):
        if case.ref not in active:
            continue
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


def _clock_lines(data: ReportInput, calendar: WorkingCalendar, start: date, end: date) -> tuple[ClockLine, ...]:
    lines = []
    for c in sorted(data.clocks, key=lambda c: (c.due, c.ref, c.name)):
        if not _between(c.due, start, end):
            continue
        result, late = clock_result(c, end, calendar)
        lines.append(ClockLine(c.ref, c.la_code, c.name, c.owner, c.due, c.target, c.met_on, result, late))
    return tuple(lines)


def _late_meetings(
    facts: _Facts, data: ReportInput, month: tuple[date, date], ytd_start: date
) -> tuple[LateMeeting, ...]:
    la_of = {c.ref: c.la_code for c in data.cases}
    lines = []
    for ref, held in sorted(facts.first_held.items(), key=lambda p: (p[1], p[0])):
        if not _between(held, ytd_start, month[1]) or ref not in la_of:
            continue
        check = facts.meeting_check(ref)
        if check is None or check[2] <= 0:
            continue
        lines.append(
            LateMeeting(
                ref,
                la_of[ref],
                check[0],
                check[1],
                held,
                check[2],
                facts.breach_reason(ref),
                in_month=_between(held, *month),
            )
        )
    return tuple(lines)


def build_report(data: ReportInput, calendar: WorkingCalendar) -> MonthlyReport:
    """Every figure of the month `data.month` and its financial year to date.

    `data.las` fixes the LAs reported (in that order) — rows of other LAs are ignored; a
    single-LA input gives that LA's report only. Deterministic: the same rows and
    holidays always give an equal `MonthlyReport`.
    """
    month_start, month_end = month_bounds(parse_month(data.month))
    ytd_start = financial_year_start(month_start)
    codes = {la.code for la in data.las}
    data = replace(
        data,
        **{
            name: tuple(r for r in getattr(data, name) if r.la_code in codes)
            for name in ("cases", "events", "certificates", "sessions", "clocks", "claims")
        },
    )
    single = len(data.las) == 1
    name = data.las[0].name if single else "All local authorities"
    scope = _scope(data, calendar, data.las[0].code if single else "ALL", name, (month_start, month_end), ytd_start)
    by_la = tuple(
        scope
        if single
        else _scope(data.for_la(la.code), calendar, la.code, la.name, (month_start, month_end), ytd_start)
        for la in data.las
    )
    facts = _Facts(data, calendar)
    return MonthlyReport(
        month=data.month,
        month_start=month_start,
        month_end=month_end,
        ytd_start=ytd_start,
        scope=scope,
        by_la=by_la,
        case_lines=_case_lines(data, facts, month_start, month_end),
        clock_lines=_clock_lines(data, calendar, month_start, month_end),
        late_meetings=_late_meetings(facts, data, (month_start, month_end), ytd_start),
        single_la=single,
    )


def headline_kpis(report: MonthlyReport) -> list[dict[str, object]]:
    """One plain row per scope (all LAs, then each LA) of the month's headline figures."""

    def pct(f: Figure) -> str:
        return f"{f.count}/{f.denominator}" + (f" ({f.ratio:.0%})" if f.ratio is not None else "")

    rows = []
    scopes: Sequence[ScopeFigures] = (report.scope,) if report.single_la else (report.scope, *report.by_la)
    for s in scopes:
        rows.append(
            {
                "scope": s.name,
                "referrals": s.get("referrals_total").count,
                "chose_mediation": pct(s.get("decisions_chose_mediation")),
                "certificates_on_time": pct(s.get("certificates_on_time")),
                "meetings_within_30_days": pct(s.get("meetings_within_30_days")),
                "sessions_cancelled": pct(s.get("sessions_cancelled")),
                "claims_total_gbp": f"{(s.get('claims_total').amount_pence or 0) / 100:.2f}",
            }
        )
    return rows
