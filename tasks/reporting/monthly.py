"""The monthly report: load a month's rows from the database, write the workbooks, queue the emails.

`run_monthly_report(month, today=..., now=..., out=..., resend=...)` does the whole job as plain
functions (what `drs report monthly` runs without a Prefect server); the `monthly-report` flow
calls the same three steps as tasks: `write_monthly_workbooks` then `queue_monthly_emails`.

Files: `$DRS_HOME/reports/monthly/drs-monthly-YYYY-MM.xlsx` (every LA) and
`drs-monthly-YYYY-MM-<ONS code>.xlsx` (one LA each); `out` replaces the folder. Re-running a
month rewrites them with the same figures (only "generated" on the cover differs).

Emails (outbox, one recipient each): the full workbook to `DRS_TEAM_EMAIL`; each LA's own
workbook to its `contract_email` — or, when the register has none, its `sen_team_email` (the
only LA address the register always has); an LA with neither is reported in
`emails.no_recipient`. Several LAs with one address get one email with each LA's workbook.
Keys `monthly-report:<YYYY-MM>:<address>`: a second run queues nothing; `resend=True` queues
again under `…:resend-<n>`.

Only non-personal columns are read (references, codes, dates, states, amounts), so a month
reports the same numbers after the retention job anonymises its cases.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import Case, CaseEvent, Certificate, Clock, ExpenseClaim, LocalAuthority, MediationSession, OutboxEmail
from models.errors import InvalidInput
from reports.monthly_figures import (
    CaseRow,
    CertificateRow,
    ClaimRow,
    ClockRow,
    EventRow,
    LaInfo,
    ReportInput,
    SessionRow,
    build_report,
    headline_kpis,
    parse_month,
    previous_month,
)
from tasks.deadlines.calendar_source import working_calendar
from tasks.operations import progress
from tasks.settings import get_settings
from tasks.timekeeping import local_tz, resolve_now

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND = "monthly-report"
#: certificate type -> the case event that triggers it (rules §2)
TRIGGER_EVENT = {
    "declined": "mediation-declined",
    "withdrawn": "withdrawn",
    "deemed": "la-cannot-arrange",
    "after-mediation": "mediation-concluded",
}


class ReportError(InvalidInput):
    """A month that cannot be reported (bad or future month); the message says why."""


def resolve_month(month: str | None, today: date) -> str:
    """`month` checked (`YYYY-MM`, not after `today`'s month), or the month just ended."""
    if month is None:
        return previous_month(today)
    try:
        first = parse_month(month)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    if first > today:
        raise ReportError(f"month {month} has not started yet")
    from models.domain.fields import date_problem

    if date_problem(first):  # a month before 2000 is a typo, not a report to email every LA
        raise ReportError(f"month {month} {date_problem(first)}")
    return f"{first.year:04d}-{first.month:02d}"


# --- loading -----------------------------------------------------------------------------------
def load_report_input(db: Session, month: str) -> ReportInput:
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


# --- building and writing ----------------------------------------------------------------------
def load_month(month: str) -> ReportInput:
    """`load_report_input` in a unit of work of its own."""
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        return load_report_input(db, month)


def reports_folder(out: str | os.PathLike | None = None) -> Path:
    return Path(out) if out else get_settings().reports_dir / "monthly"


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)


def write_monthly_workbooks(month: str, now: datetime, out: str | None = None) -> dict[str, Any]:
    """Build `month` and write the full and per-LA workbooks; returns paths, periods and KPIs."""
    from reports.monthly_workbook import render_workbook

    data = load_month(month)
    calendar = working_calendar()
    report = build_report(data, calendar)
    generated = now.astimezone(local_tz())
    folder = reports_folder(out)
    full = folder / f"drs-monthly-{month}.xlsx"
    _write(full, render_workbook(report, generated))
    la_paths: dict[str, str] = {}
    for scope in progress.counted(report.by_la):
        path = folder / f"drs-monthly-{month}-{scope.code}.xlsx"
        _write(path, render_workbook(build_report(data.for_la(scope.code), calendar), generated))
        la_paths[scope.code] = str(path)
    return {
        "month": month,
        "period": {
            "month": {"from": report.month_start.isoformat(), "to": report.month_end.isoformat()},
            "year_to_date": {"from": report.ytd_start.isoformat(), "to": report.month_end.isoformat()},
        },
        "workbook": str(full),
        "la_workbooks": la_paths,
        "kpis": headline_kpis(report),
    }


# --- emails --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Recipient:
    address: str
    la_codes: tuple[str, ...]  # () = the team (full workbook)


def _next_key(db: Session, base: str, resend: bool) -> str:
    if not resend:
        return base
    taken = db.scalars(select(OutboxEmail.key).where(OutboxEmail.key.like(base.replace("%", "") + "%"))).all()
    return f"{base}:resend-{sum(1 for k in taken if k == base or k.startswith(base + ':resend-'))}"


def queue_monthly_emails(month: str, workbooks: dict[str, Any], now: datetime, resend: bool = False) -> dict[str, Any]:
    """Queue the month's emails (see the module docstring); returns queued / already_queued / no_recipient."""
    from tasks.db import unit_of_work
    from tasks.mail.attachment import Attachment
    from tasks.mail.layout import render_email
    from tasks.mail.outbox import queue_email
    from tasks.privacy.keys import address_token

    settings = get_settings()
    title = parse_month(month).strftime("%B %Y")
    la_paths: dict[str, str] = workbooks["la_workbooks"]
    summary: dict[str, Any] = {"queued": 0, "already_queued": 0, "no_recipient": [], "recipients": []}
    with unit_of_work() as db:
        las = {la.code: la for la in db.scalars(select(LocalAuthority).where(LocalAuthority.code.in_(list(la_paths))))}
        by_address: dict[str, list[str]] = defaultdict(list)
        for code in la_paths:
            la = las.get(code)
            address = (la.contract_email or la.sen_team_email) if la else None
            if address:
                by_address[address.strip().lower()].append(code)
            else:
                summary["no_recipient"].append(code)
        recipients = [_Recipient(settings.team_email.strip().lower(), ())]
        recipients += [_Recipient(a, tuple(codes)) for a, codes in sorted(by_address.items())]
        for r in recipients:
            if r.la_codes:
                names = ", ".join(las[c].name for c in r.la_codes)
                files = [Path(la_paths[c]) for c in r.la_codes]
                heading = f"Monthly report for {names}: {title}"
                paragraphs = [
                    f"Attached is the mediation and disagreement resolution service's report for {title} for "
                    f"{names}: referrals, families' decisions, certificates, meetings, outcomes, cancellations "
                    f"and expense claims, for the month and the financial year to date.",
                    "Each figure shows its count and what it is out of; the cover sheet explains how each is "
                    "defined. Cases appear by reference only.",
                ]
            else:
                files = [Path(workbooks["workbook"])]
                heading = f"Monthly report: {title}"
                paragraphs = [
                    f"Attached is the full monthly report for {title}, every local authority together "
                    f"and each one on its own sheet. Each LA's contract contact receives their own "
                    f"workbook separately."
                ]
            text, html = render_email(heading, paragraphs, footer=None)
            key = _next_key(db, f"{KIND}:{month}:{address_token(r.address)}", resend)
            row = queue_email(
                db,
                key=key,
                kind=KIND,
                to=r.address,
                subject=heading,
                text=text,
                html=html,
                now=now,
                attachments=[Attachment(f.name, XLSX, f.read_bytes()) for f in files],
            )
            summary["queued" if row is not None else "already_queued"] += 1
            summary["recipients"].append(
                {
                    "to": r.address,
                    "local_authorities": list(r.la_codes) or ["ALL"],
                    "key": key,
                    "queued": row is not None,
                }
            )
        db.commit()
    return summary


def run_monthly_report(
    month: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
    out: str | None = None,
    resend: bool = False,
) -> dict[str, Any]:
    """The whole job without Prefect: resolve the month, write the workbooks, queue the emails."""
    today, now = resolve_now(now, today)
    month = resolve_month(month, today)
    result = write_monthly_workbooks(month, now, out)
    result["emails"] = queue_monthly_emails(month, result, now, resend)
    return result
