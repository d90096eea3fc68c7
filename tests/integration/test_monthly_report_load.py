"""Issue 14: the monthly report reads only the rows its month needs — and gets the figures that
every row ever recorded gives. A synthetic database (the benchmark's generator: cases in every
state over 50 months, 5 LAs) is reported for several months with the loader as it was before
(every case ever recorded, kept below as the reference) and with `tasks.reporting.load`; the
built reports (every figure, case line, clock line and late meeting) must be equal."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.db import Case, CaseEvent, Certificate, Clock, ExpenseClaim, LocalAuthority, MediationSession
from reports.monthly import (
    CaseRow,
    CertificateRow,
    ClaimRow,
    ClockRow,
    EventRow,
    LaInfo,
    ReportInput,
    SessionRow,
)
from tasks.reporting.load import TRIGGER_EVENT
from tasks.timekeeping import local_tz

MONTHS = ("2026-11", "2026-10", "2026-04", "2026-03", "2025-12", "2025-07")


def test_the_months_rows_give_the_figures_of_every_row_ever_recorded(drs_env):
    from bench.generate import generate_cases
    from reports.monthly import build_report
    from tasks.db import unit_of_work
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.reporting.load import load_report_input

    generate_cases(drs_env.db_url, 1500, seed=5, n_las=5)
    calendar = working_calendar()
    with unit_of_work() as db:
        for month in MONTHS:
            everything = reference_input(db, month)
            narrow = load_report_input(db, month)
            assert len(narrow.cases) < len(everything.cases), month  # it does read less
            assert build_report(narrow, calendar) == build_report(everything, calendar), month
            assert build_report(narrow, calendar).scope.get("referrals_total", "ytd").count > 0, month


def test_events_the_facts_do_not_read_count_by_date_and_detail(drs_env):
    """The loader reads only the event types the facts read (`EVENTS_READ`), plus any event in the
    month (an active case) or with a detail (a breach reason): add events of other types with a
    breach reason (before and after the first meeting) and in each month, and compare again."""
    from bench.generate import generate_cases
    from reports.monthly import build_report
    from reports.monthly.facts import EVENTS_READ
    from tasks.db import unit_of_work
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.reporting.load import load_report_input

    generate_cases(drs_env.db_url, 600, seed=11, n_las=3)
    assert "information-given" not in EVENTS_READ and "closed" not in EVENTS_READ
    with unit_of_work() as db:
        held = db.execute(
            select(MediationSession.case_id, MediationSession.start_at).where(MediationSession.status == "held")
        ).all()
        at = datetime(2026, 12, 1, tzinfo=UTC)
        for n, (case_id, start) in enumerate(held):
            detail = {"breach_reason": f"venue unavailable {n}"} if n % 2 else {"reason": " mediator ill "}
            day = start.date() + timedelta(days=(n % 5) - 2)
            db.add(CaseEvent(case_id=case_id, event="closed", on=day, detail=detail, recorded_at=at, recorded_by="t"))
        late = [case_id for case_id, _ in held[::3]]  # their LA received the request 40 days earlier
        received = (CaseEvent.event == "la-received-request") & CaseEvent.case_id.in_(late)
        for event_id, on in db.execute(select(CaseEvent.id, CaseEvent.on).where(received)).all():
            db.execute(update(CaseEvent).where(CaseEvent.id == event_id).values(on=on - timedelta(days=40)))
        ids = db.scalars(select(Case.id).order_by(Case.id)).all()
        for k, month in enumerate(MONTHS):
            day = date(int(month[:4]), int(month[5:]), 1 + k)
            for case_id in ids[k::40]:
                db.add(CaseEvent(case_id=case_id, event="information-given", on=day, recorded_at=at, recorded_by="t"))
        db.commit()
    calendar = working_calendar()
    reasons = set()
    with unit_of_work() as db:
        for month in MONTHS:
            narrow, everything = build_report(load_report_input(db, month), calendar), reference_input(db, month)
            assert narrow == build_report(everything, calendar), month
            reasons |= {line.reason for line in narrow.late_meetings}
    assert "mediator ill" in reasons and any(r and r.startswith("venue") for r in reasons)


# --- the loader before issue 14 (every case ever recorded), the reference ---------------------
def reference_input(db: Session, month: str) -> ReportInput:
    """Every row the report needs, for all LAs (figures pick their periods themselves)."""
    tz = local_tz()
    las = tuple(
        LaInfo(code, name)
        for code, name in db.execute(
            select(LocalAuthority.code, LocalAuthority.name).order_by(LocalAuthority.name, LocalAuthority.code)
        )
    )
    case_la = (
        select(Case.id, Case.ref, LocalAuthority.code.label("la_code"))
        .join(LocalAuthority, Case.la_id == LocalAuthority.id)
        .subquery()
    )
    cases = tuple(
        CaseRow(ref, la, service, decision_type, received_on, status)
        for ref, la, service, decision_type, received_on, status in db.execute(
            select(Case.ref, LocalAuthority.code, Case.service, Case.decision_type, Case.received_on, Case.status)
            .join(LocalAuthority, Case.la_id == LocalAuthority.id)
            .order_by(Case.ref)
        )
    )
    raw_events = db.execute(
        select(
            case_la.c.id,
            case_la.c.ref,
            case_la.c.la_code,
            CaseEvent.event,
            CaseEvent.on,
            CaseEvent.cert_type,
            CaseEvent.detail,
        )
        .join(case_la, CaseEvent.case_id == case_la.c.id)
        .order_by(case_la.c.ref, CaseEvent.on, CaseEvent.id)
    ).all()
    events = tuple(
        EventRow(ref, la, event, on, cert_type, detail or None)
        for _, ref, la, event, on, cert_type, detail in raw_events
    )
    certificates = _certificates(db, case_la, raw_events)
    sessions = tuple(
        SessionRow(
            ref,
            la,
            start.astimezone(tz).date(),
            status,
            cancelled_by,
            cancelled_at.astimezone(tz).date() if cancelled_at else None,
            outcome,
            outcome_on,
        )
        for ref, la, start, status, cancelled_by, cancelled_at, outcome, outcome_on in db.execute(
            select(
                case_la.c.ref,
                case_la.c.la_code,
                MediationSession.start_at,
                MediationSession.status,
                MediationSession.cancelled_by,
                MediationSession.cancelled_at,
                MediationSession.outcome,
                MediationSession.outcome_on,
            )
            .join(case_la, MediationSession.case_id == case_la.c.id)
            .order_by(MediationSession.id)
        )
    )
    clocks = tuple(
        ClockRow(*row)
        for row in db.execute(
            select(
                case_la.c.ref,
                case_la.c.la_code,
                Clock.name,
                Clock.owner,
                Clock.due,
                Clock.target,
                Clock.state,
                Clock.met_on,
            )
            .join(case_la, Clock.case_id == case_la.c.id)
            .order_by(case_la.c.ref, Clock.name)
        )
    )
    claims = tuple(
        ClaimRow(ref, la, imported_at.astimezone(tz).date(), session_date, status, amount)
        for ref, la, imported_at, session_date, status, amount in db.execute(
            select(
                case_la.c.ref,
                case_la.c.la_code,
                ExpenseClaim.imported_at,
                ExpenseClaim.session_date,
                ExpenseClaim.status,
                ExpenseClaim.amount_pence,
            )
            .join(case_la, ExpenseClaim.case_id == case_la.c.id)
            .order_by(ExpenseClaim.claim_id)
        )
    )
    return ReportInput(
        month=month,
        las=las,
        cases=cases,
        events=events,
        certificates=certificates,
        sessions=sessions,
        clocks=clocks,
        claims=claims,
    )


def _certificates(db: Session, case_la, raw_events) -> tuple[CertificateRow, ...]:
    """Issued certificates: rows of `certificates` (status issued), plus `certificate-issued`
    events no row matches (case, type, date) — their trigger is the latest matching trigger event
    on or before the issue date (None when there is none)."""
    rows = db.execute(
        select(
            case_la.c.id,
            case_la.c.ref,
            case_la.c.la_code,
            Certificate.type,
            Certificate.issued_on,
            Certificate.trigger_on,
            Certificate.status,
        )
        .join(case_la, Certificate.case_id == case_la.c.id)
        .order_by(Certificate.id)
    ).all()
    out = [
        CertificateRow(ref, la, kind, issued, trigger)
        for _, ref, la, kind, issued, trigger, status in rows
        if status == "issued"
    ]
    known = {(case_id, kind, issued) for case_id, _, _, kind, issued, _, _ in rows}
    by_case: dict[int, list] = defaultdict(list)
    for row in raw_events:
        by_case[row[0]].append(row)
    for case_id, ref, la, event, on, cert_type, _ in raw_events:
        if event != "certificate-issued" or (case_id, cert_type, on) in known:
            continue
        trigger = TRIGGER_EVENT.get(cert_type or "")
        triggers = [e[4] for e in by_case[case_id] if e[3] == trigger and e[4] <= on]
        out.append(CertificateRow(ref, la, cert_type or "unknown", on, triggers[-1] if triggers else None))
        known.add((case_id, cert_type, on))
    return tuple(sorted(out, key=lambda c: (c.issued_on, c.ref, c.type)))
