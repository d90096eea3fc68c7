"""Load what a month's report needs from the database — and only that (issue 14).

Every figure counts rows dated in the month, the financial year to date or the twelve-month
certificate trend (`reports.monthly.rows.Periods`), so the loader reads:

* the **cases that need their whole history** (`relevant_cases`): a family decision, a meeting
  held or concluded in the year to date; a certificate issued in the trend's twelve months;
  anything at all in the month (the case list). Their certificates and meetings are read in
  full, and of their events every one of a type the facts read (`facts.EVENTS_READ`: decisions,
  meetings concluded, the LA's receipt, certificates and their triggers), plus the others that
  are in the month or carry a detail (a breach reason): so per-case facts (the *first* decision,
  the *first* meeting, a certificate's trigger, the breach reason) are the same as from every row
  ever recorded;
* **row-level figures** by date alone: cases received, meetings due or with an outcome, and
  claims received in the year to date; clocks due in it (agreement follow-ups) or in the month.

Timestamps (meeting starts, cancellations, claim imports) are local dates in the report: the
SQL windows take a day more on each side, and the figures pick their exact days themselves
(a wider read only adds rows no figure counts). Only non-personal columns are read, so a month
reports the same numbers after the retention job anonymises its cases. Rows are Core rows
(no ORM), a case's reference and LA taken from the case rows (no join per event), and the
date windows answered by indexes (migration 0021: `clocks (due, name)`, `case_events (on)`,
`cases (received_on)`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Select, and_, or_, select, union
from sqlalchemy.orm import Session

from models.db import Case, CaseEvent, Certificate, Clock, ExpenseClaim, LocalAuthority, MediationSession
from reports.monthly.facts import EVENTS_READ, events_read, first_meetings
from reports.monthly.rows import (
    CaseRow,
    CertificateRow,
    ClaimRow,
    ClockRow,
    EventRow,
    LaInfo,
    Periods,
    ReportInput,
    SessionRow,
    sorted_by,
)
from tasks.timekeeping import local_tz

#: certificate type -> the case event that triggers it (rules §2)
TRIGGER_EVENT = {
    "declined": "mediation-declined",
    "withdrawn": "withdrawn",
    "deemed": "la-cannot-arrange",
    "after-mediation": "mediation-concluded",
}
CHUNK = 5_000  # case ids per `IN (...)` (SQLite binds at most 32,766 parameters)


class _Shared:
    """One object per distinct text or date value read (a case's reference, an LA code, an event
    name, a day): rows then hold references to them, not a copy per row — the month's rows take
    about half the memory. Values are unchanged (equal, same type)."""

    def __init__(self) -> None:
        self.values: dict[Any, Any] = {}

    def rows(self, result: Iterable[Any]) -> Iterator[tuple]:
        """The rows one at a time (no list of raw rows beside the objects made from them: memory)."""
        share = self.values.setdefault
        for row in result:
            yield tuple(share(v, v) if type(v) is str or type(v) is date else v for v in row)


def _instants(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants from the day before `first` to the end of the day after `last` (any UK offset)."""
    return (
        datetime.combine(first - timedelta(days=1), time(), UTC),
        datetime.combine(last + timedelta(days=2), time(), UTC),
    )


def relevant_cases(db: Connection, p: Periods) -> set[int]:
    """Ids of the cases whose whole history the report needs (see the module docstring)."""
    year, month = (p.ytd_start, p.month_end), (p.month_start, p.month_end)
    year_at, month_at = _instants(*year), _instants(*month)
    ev, ses = CaseEvent, MediationSession
    queries = union(
        select(ev.case_id).where(
            or_(
                and_(
                    ev.event.in_(("mediation-requested", "mediation-declined", "mediation-concluded")),
                    ev.on.between(*year),
                ),
                and_(ev.event == "certificate-issued", ev.on.between(p.trend_start, p.month_end)),
                ev.on.between(*month),
            )
        ),
        select(Certificate.case_id).where(Certificate.issued_on.between(p.trend_start, p.month_end)),
        select(ses.case_id).where(
            or_(
                and_(ses.status == "held", ses.start_at.between(*year_at)),
                ses.start_at.between(*month_at),
                ses.cancelled_at.between(*month_at),
                ses.outcome_on.between(*month),
            )
        ),
        select(Case.id).where(Case.received_on.between(*month)),
        select(ExpenseClaim.case_id).where(ExpenseClaim.imported_at.between(*month_at)),
    )
    return set(db.scalars(queries))


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


def _with_case(query: Select, case_id: Any) -> Select:
    """`query` (of a table with `case_id`) joined to its case and the case's LA, for their
    reference and code (a plain join: the date window's index leads, not a subquery of every case)."""
    return query.join(Case, case_id == Case.id).join(LocalAuthority, Case.la_id == LocalAuthority.id)


def _by_cases(db: Connection, query: Any, column: Any, ids: set[int], shared: _Shared) -> list[Any]:
    """Rows of `query` for the cases `ids`, `CHUNK` ids per statement (values shared)."""
    return [row for chunk in _chunks(ids) for row in shared.rows(db.execute(query.where(column.in_(chunk))))]


def load_cases(db: Connection, p: Periods, relevant: set[int], shared: _Shared) -> dict[int, CaseRow]:
    """Cases received in the year to date, and every relevant case; by case id."""
    query = select(
        Case.id, Case.ref, LocalAuthority.code, Case.service, Case.decision_type, Case.received_on, Case.status
    ).join(LocalAuthority, Case.la_id == LocalAuthority.id)
    cases = {
        r[0]: CaseRow(*r[1:])
        for r in shared.rows(db.execute(query.where(Case.received_on.between(p.ytd_start, p.month_end))))
    }
    for chunk in _chunks(relevant - cases.keys()):
        cases.update((r[0], CaseRow(*r[1:])) for r in shared.rows(db.execute(query.where(Case.id.in_(chunk)))))
    return cases


def load_events(
    db: Connection,
    p: Periods,
    cases: dict[int, CaseRow],
    relevant: set[int],
    sessions: tuple[SessionRow, ...],
    shared: _Shared,
) -> tuple[tuple[EventRow, ...], tuple[CertificateRow, ...]]:
    """The events of the relevant cases that a figure reads, and their issued certificates.

    Read, a chunk of cases at a time: every event of a type the per-case facts and certificates
    read (`EVENTS_READ`), and of the other types those in the month (an active case) or with a
    `detail` (a breach reason). Each case's events (by day, then id) make its certificates
    (`_certificates`) and are then cut to those a figure reads (`facts.events_read`), so the
    whole history is never held at once. Events by (ref, day, id)."""
    e = CaseEvent
    query = select(e.case_id, e.event, e.on, e.cert_type, e.detail, e.id).where(
        or_(e.event.in_(sorted(EVENTS_READ)), e.on.between(p.month_start, p.month_end), e.detail.is_not(None))
    )
    c = Certificate
    cert_query = select(c.case_id, c.type, c.issued_on, c.trigger_on, c.status, c.id)
    events: list[EventRow] = []
    certificates: list[CertificateRow] = []
    meetings = first_meetings(cases.values(), sessions)
    for chunk in _chunks(relevant):  # a case's events are all in one chunk
        certs: dict[int, list[tuple]] = defaultdict(list)
        for r in sorted(shared.rows(db.execute(cert_query.where(c.case_id.in_(chunk)))), key=lambda r: r[5]):
            certs[r[0]].append(r)
        rows = list(shared.rows(db.execute(query.where(e.case_id.in_(chunk)))))
        rows.sort(key=lambda r: (cases[r[0]].ref, r[2], r[5]))
        for case_id, group in groupby(rows, key=lambda r: r[0]):
            case = cases[case_id]
            history = [EventRow(case.ref, case.la_code, r[1], r[2], r[3], r[4] or None) for r in group]
            certificates += _certificates(case, certs.pop(case_id, []), history)
            no_meeting = (case.service != "mediation", None)  # no session rows: a mediation case's first concluded
            events += events_read(history, p.month_start, p.month_end, meetings.get(case.ref, no_meeting))
        for case_id, cert_rows in certs.items():  # cases with certificates and no event read
            certificates += _certificates(cases[case_id], cert_rows, [])
    events.sort(key=lambda ev: ev.ref)  # stable: each case's (day, id) order stays
    certificates = sorted_by(certificates, "issued_on", "ref", "type")  # stable: ties are one case's, in order
    return tuple(events), tuple(certificates)


def _certificates(case: CaseRow, rows: list[tuple], history: list[EventRow]) -> list[CertificateRow]:
    """A case's issued certificates: its rows of `certificates` (status issued, by id), then its
    `certificate-issued` events no row matches (type, date) — their trigger is the latest
    matching trigger event on or before the issue date (None when there is none)."""
    out = [CertificateRow(case.ref, case.la_code, *r[1:4]) for r in rows if r[4] == "issued"]
    known = {(r[1], r[2]) for r in rows}
    for ev in history:
        cert_type, on = ev.cert_type, ev.on
        if ev.event != "certificate-issued" or (cert_type, on) in known:
            continue
        trigger = TRIGGER_EVENT.get(cert_type or "")
        triggers = [t.on for t in history if t.event == trigger and t.on <= on]
        out.append(
            CertificateRow(case.ref, case.la_code, cert_type or "unknown", on, triggers[-1] if triggers else None)
        )
        known.add((cert_type, on))
    return out


def load_sessions(
    db: Connection, p: Periods, cases: dict[int, CaseRow], relevant: set[int], shared: _Shared
) -> tuple[SessionRow, ...]:
    """Every meeting of the relevant cases, and every meeting due or with an outcome in the year to date."""
    s = MediationSession
    columns = (s.start_at, s.status, s.cancelled_by, s.cancelled_at, s.outcome, s.outcome_on)
    year = (p.ytd_start, p.month_end)
    dated = _with_case(select(s.id, Case.ref, LocalAuthority.code, *columns), s.case_id).where(
        or_(s.start_at.between(*_instants(*year)), s.outcome_on.between(*year))
    )
    rows = {r[0]: r for r in shared.rows(db.execute(dated))}
    query = select(s.id, s.case_id, *columns)
    for r in _by_cases(db, query, s.case_id, relevant, shared):
        case = cases[r[1]]
        rows[r[0]] = (r[0], case.ref, case.la_code, *r[2:])
    tz = local_tz()
    return tuple(
        SessionRow(ref, la, start.astimezone(tz).date(), status, by, at.astimezone(tz).date() if at else None, out, on)
        for _, ref, la, start, status, by, at, out, on in (rows[k] for k in sorted(rows))
    )


def load_clocks(db: Connection, p: Periods, shared: _Shared) -> tuple[ClockRow, ...]:
    """Clocks due in the month, and agreement follow-ups due in the year to date, by (ref, name)."""
    wanted = or_(Clock.due >= p.month_start, Clock.name.like("agreement\\_%", escape="\\"))
    columns = (Clock.name, Clock.owner, Clock.due, Clock.target, Clock.state, Clock.met_on)
    query = _with_case(select(Case.ref, LocalAuthority.code, *columns).select_from(Clock), Clock.case_id).where(
        Clock.due.between(p.ytd_start, p.month_end), wanted
    )
    return tuple(sorted_by([ClockRow(*row) for row in shared.rows(db.execute(query))], "ref", "name"))


def load_claims(db: Connection, p: Periods, shared: _Shared) -> tuple[ClaimRow, ...]:
    """Claim lines imported in the year to date."""
    c = ExpenseClaim
    columns = (c.imported_at, c.session_date, c.status, c.amount_pence)
    query = (
        _with_case(select(Case.ref, LocalAuthority.code, *columns).select_from(c), c.case_id)
        .where(c.imported_at.between(*_instants(p.ytd_start, p.month_end)))
        .order_by(c.claim_id)
    )
    tz = local_tz()
    return tuple(
        ClaimRow(ref, la, at.astimezone(tz).date(), day, status, pence)
        for ref, la, at, day, status, pence in shared.rows(db.execute(query))
    )


def load_report_input(session: Session, month: str) -> ReportInput:
    """Every row the report of `month` needs, for all LAs (figures pick their periods themselves)."""
    p = Periods.of(month)
    db = session.connection()  # Core rows (no ORM result processing)
    las_query = select(LocalAuthority.code, LocalAuthority.name).order_by(LocalAuthority.name, LocalAuthority.code)
    las = tuple(LaInfo(code, name) for code, name in db.execute(las_query))
    relevant = relevant_cases(db, p)
    shared = _Shared()
    by_id = load_cases(db, p, relevant, shared)
    sessions = load_sessions(db, p, by_id, relevant, shared)
    events, certificates = load_events(db, p, by_id, relevant, sessions, shared)
    cases = tuple(sorted(by_id.values(), key=lambda c: c.ref))
    del by_id, relevant
    return ReportInput(
        month=month,
        las=las,
        cases=cases,
        events=events,
        certificates=certificates,
        sessions=sessions,
        clocks=load_clocks(db, p, shared),
        claims=load_claims(db, p, shared),
    )


def load_month(month: str) -> ReportInput:
    """`load_report_input` in a unit of work of its own."""
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        return load_report_input(db, month)
