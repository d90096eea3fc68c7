"""The benchmark's child processes: the baselines, and the project steps not behind one `drs` command.

    python -m bench.children NAME [ARG…]

Each prints, as its last stdout line, `BENCH {json}` with what it timed inside itself
(`seconds`) and counts; `bench.run` starts it under `bench.measure` for wall time and peak RSS.
The environment (`DRS_HOME`, `DRS_DATABASE_URL`, Prefect settings) comes from `bench.run`.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, date, datetime, timedelta


def _report(**values) -> None:
    print("BENCH " + json.dumps(values), flush=True)


def _engine():
    from sqlalchemy import create_engine

    from tasks.settings import get_settings

    return create_engine(get_settings().db_url)


def baseline_intake(path: str) -> None:
    """SQLAlchemy Core bulk insert of the drop's referrals as `cases` rows (one transaction)."""
    from sqlalchemy import insert, select

    from models.db import Case, LocalAuthority

    started = time.perf_counter()
    records = json.loads(open(path, encoding="utf-8").read())
    engine = _engine()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        las = {}
        for la_id, code, name, aliases in conn.execute(
            select(LocalAuthority.id, LocalAuthority.code, LocalAuthority.name, LocalAuthority.aliases)
        ):
            for key in (code, name, *(aliases or [])):
                las[key.lower()] = la_id
        rows = []
        for n, r in enumerate(records):
            submitted = datetime.fromisoformat(r["submitted_at"])
            rows.append(
                {
                    "ref": f"DRS-{submitted.year}-B{n + 1:06d}",
                    "service": r["service"],
                    "status": "new",
                    "la_id": las[r["local_authority"].lower()],
                    "received_on": submitted.date(),
                    "requester_role": r["requester"]["role"],
                    "requester_name": r["requester"]["name"],
                    "requester_email": r["requester"]["email"],
                    "requester_phone": r["requester"]["phone"],
                    "requester_postcode": r["requester"]["postcode"],
                    "child_name": r["child"]["name"],
                    "child_date_of_birth": date.fromisoformat(r["child"]["date_of_birth"]),
                    "decision_type": r["decision"]["type"],
                    "decision_letter_sent_on": date.fromisoformat(r["decision"]["letter_sent_on"]),
                    "sections": r["sections"],
                    "health_issues": r["health_issues"],
                    "social_care_issues": r["social_care_issues"],
                    "wants_mediation": r["wants_mediation"],
                    "consent_to_contact_la": r["consent_to_contact_la"],
                    "notes": r["notes"],
                    "flags": [],
                    "appeal_lodged": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        conn.execute(insert(Case.__table__), rows)
    _report(seconds=time.perf_counter() - started, rows=len(rows))


def baseline_monitor(today: str) -> None:
    """The one indexed query selecting the window of due clocks (as the monitor's, fetched)."""
    from sqlalchemy import select

    from models.db import Case, Clock, LocalAuthority
    from models.domain.alerts import DEFAULT_POLICY

    day = date.fromisoformat(today)
    started = time.perf_counter()
    stmt = (
        select(
            Clock.case_id,
            Clock.name,
            Clock.due,
            Clock.target,
            Clock.state,
            Clock.owner,
            Clock.level,
            Case.ref,
            LocalAuthority.code,
        )
        .join(Case, Case.id == Clock.case_id)
        .join(LocalAuthority, LocalAuthority.id == Case.la_id)
        .where(
            Clock.state.in_(("open", "missed")),
            Clock.target >= day - timedelta(days=DEFAULT_POLICY.missed_lookback_days),
            Clock.target <= day + timedelta(days=DEFAULT_POLICY.horizon_days),
            Case.status != "closed",
        )
        .order_by(Clock.target)
    )
    with _engine().connect() as conn:
        rows = conn.execute(stmt).all()
    _report(seconds=time.perf_counter() - started, rows=len(rows))


def recompute(today: str) -> None:
    """The project's step: `tasks.deadlines.refresh.refresh_clocks` after a holiday-file change."""
    from tasks.deadlines.refresh import refresh_clocks
    from tasks.timekeeping import resolve_now

    day, now = resolve_now(None, date.fromisoformat(today))
    started = time.perf_counter()
    cases = refresh_clocks(day, now)
    _report(seconds=time.perf_counter() - started, cases=cases)


def _open_case_facts():
    """Every case not closed, as the engine's `CaseFacts` (loaded with a few Core queries)."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import func, select

    from models.db import Case, CaseEvent, MediationSession, OutboxEmail
    from models.domain.clocks import CaseFacts, Event, NextSession
    from tasks.settings import get_settings

    tz = ZoneInfo(get_settings().timezone)
    live = select(Case.id).where(Case.status != "closed", Case.anonymised_at.is_(None))
    with _engine().connect() as conn:
        cases = conn.execute(
            select(
                Case.id,
                Case.service,
                Case.decision_type,
                Case.decision_letter_sent_on,
                Case.received_on,
                Case.sections,
                Case.health_issues,
                Case.appeal_lodged,
            ).where(Case.id.in_(live))
        ).all()
        events: dict[int, list] = {}
        for r in conn.execute(
            select(
                CaseEvent.case_id, CaseEvent.event, CaseEvent.on, CaseEvent.health, CaseEvent.cert_type, CaseEvent.items
            )
            .where(CaseEvent.case_id.in_(live))
            .order_by(CaseEvent.case_id, CaseEvent.on, CaseEvent.id)
        ):
            events.setdefault(r.case_id, []).append(Event(r.event, r.on, r.health, r.cert_type, tuple(r.items or ())))
        sessions = {}
        for r in conn.execute(
            select(
                MediationSession.case_id,
                MediationSession.start_at,
                MediationSession.booked_at,
                MediationSession.short_notice_agreed,
            )
            .where(MediationSession.status == "scheduled", MediationSession.case_id.in_(live))
            .order_by(MediationSession.case_id, MediationSession.start_at.desc())
        ):
            sessions[r.case_id] = NextSession(
                r.start_at.astimezone(tz).date(), r.booked_at.astimezone(tz).date(), r.short_notice_agreed
            )
        sent: dict[tuple[int, str], tuple] = {}
        for r in conn.execute(
            select(
                OutboxEmail.case_id,
                OutboxEmail.kind,
                func.min(OutboxEmail.created_at),
                func.max(OutboxEmail.created_at),
            )
            .where(OutboxEmail.kind.in_(("acknowledgement", "la-mediation-request")), OutboxEmail.case_id.in_(live))
            .group_by(OutboxEmail.case_id, OutboxEmail.kind)
        ):
            sent[(r[0], r[1])] = (r[2], r[3])
    facts = []
    for c in cases:
        ack = sent.get((c.id, "acknowledgement"), (None, None))[0]
        informed = sent.get((c.id, "la-mediation-request"), (None, None))[1]
        facts.append(
            CaseFacts(
                service=c.service,
                decision_type=c.decision_type,
                letter_sent_on=c.decision_letter_sent_on,
                received_on=c.received_on,
                sections=tuple(c.sections or ()),
                health_issues=c.health_issues,
                events=tuple(events.get(c.id, ())),
                next_session=sessions.get(c.id),
                appeal_lodged=c.appeal_lodged,
                acknowledged_on=ack.astimezone(tz).date() if ack else None,
                la_informed_on=informed.astimezone(tz).date() if informed else None,
            )
        )
    return facts


def baseline_recompute(today: str) -> None:
    """`compute_clocks` alone over the same cases (facts loaded first, outside the timing)."""
    from models.domain.clocks import compute_clocks
    from tasks.deadlines.calendar_source import working_calendar

    facts = _open_case_facts()
    calendar = working_calendar()
    day = date.fromisoformat(today)
    started = time.perf_counter()
    clocks = sum(len(compute_clocks(f, calendar, day)) for f in facts)
    _report(seconds=time.perf_counter() - started, cases=len(facts), clocks=clocks)


def baseline_report(source: str, out: str) -> None:
    """xlsxwriter `constant_memory` writing the same sheets, rows and columns as the project's
    workbooks in `source` (read first, outside the timing)."""
    from pathlib import Path

    import openpyxl
    import xlsxwriter

    books = []
    for path in sorted(Path(source).glob("*.xlsx")):
        wb = openpyxl.load_workbook(path, read_only=True)
        books.append(
            (path.name, [(ws.title, [list(row) for row in ws.iter_rows(values_only=True)]) for ws in wb.worksheets])
        )
        wb.close()
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    cells = 0
    for name, sheets in books:
        wb = xlsxwriter.Workbook(str(target / name), {"constant_memory": True, "strings_to_formulas": False})
        date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
        for title, rows in sheets:
            ws = wb.add_worksheet(title[:31])
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if value is None:
                        continue
                    cells += 1
                    if isinstance(value, (date, datetime)):
                        ws.write_datetime(
                            r,
                            c,
                            value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time()),
                            date_format,
                        )
                    else:
                        ws.write(r, c, value)
        wb.close()
    _report(seconds=time.perf_counter() - started, workbooks=len(books), cells=cells)


def baseline_delivery(host: str, port: str) -> None:
    """Raw smtplib over one connection: the same pending outbox messages, built as the project
    builds them (text + HTML alternative), sent one after another."""
    import smtplib
    from email.message import EmailMessage
    from email.utils import formatdate

    from sqlalchemy import select

    from models.db import OutboxEmail

    started = time.perf_counter()
    with _engine().connect() as conn:
        rows = conn.execute(
            select(
                OutboxEmail.key, OutboxEmail.to_addr, OutboxEmail.subject, OutboxEmail.body_text, OutboxEmail.body_html
            )
            .where(OutboxEmail.status == "pending")
            .order_by(OutboxEmail.id)
        ).all()
    sender = "mediation@example.org"
    with smtplib.SMTP(host, int(port), timeout=30) as smtp:
        for key, to, subject, text, html in rows:
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = sender, to, subject
            msg["Date"] = formatdate(localtime=False)
            msg["Message-ID"] = f"<{key.replace(':', '.')}@example.org>"
            msg.set_content(text)
            if html:
                msg.add_alternative(html, subtype="html")
            smtp.sendmail(sender, [to], msg.as_string())
    _report(seconds=time.perf_counter() - started, sent=len(rows))


def idle_flow(entrypoint: str, params: str = "{}") -> None:
    """One scheduled job's flow, run once as a Prefect flow run with nothing to do."""
    import importlib

    module, name = entrypoint.split(":")
    started = time.perf_counter()
    getattr(importlib.import_module(module), name)(**json.loads(params))
    _report(seconds=time.perf_counter() - started)


def empty_flow() -> None:
    """The baseline for `idle`: an empty `@flow` run against the same server."""
    from prefect import flow

    @flow(name="bench-empty")
    def empty() -> None:
        return None

    started = time.perf_counter()
    empty()
    _report(seconds=time.perf_counter() - started)


COMMANDS = {
    "baseline-intake": baseline_intake,
    "baseline-monitor": baseline_monitor,
    "recompute": recompute,
    "baseline-recompute": baseline_recompute,
    "baseline-report": baseline_report,
    "baseline-delivery": baseline_delivery,
    "idle-flow": idle_flow,
    "empty-flow": empty_flow,
}


if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
