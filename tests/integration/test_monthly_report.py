"""The monthly report from a real database (SQLite, and PostgreSQL when configured): a known
November 2026 built through casework, every headline figure read back cell by cell with openpyxl,
per-LA isolation, hostile text, determinism, anonymisation, emails and the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select, update

from models.db import (
    Case,
    CaseEvent,
    Certificate,
    ExpenseClaim,
    LocalAuthority,
    MediationSession,
    Mediator,
    OutboxEmail,
    SessionAttendee,
)
from tasks.privacy.keys import address_token

D = date
TODAY = D(2026, 12, 1)
NOW = datetime(2026, 12, 1, 6, 30, tzinfo=ZoneInfo("Europe/London"))
LONDON = ZoneInfo("Europe/London")
HOSTILE = '=HYPERLINK("http://evil.example","LA officer unavailable")'
HOSTILE_LA = "=SUM(1,2) Borough"


def _case(
    db, la_name: str, received: date, service: str = "mediation", decision: str | None = "refuse_assessment", **fields
) -> Case:
    from tasks.cases.casework import find_local_authority, new_case

    la = db.scalar(select(LocalAuthority).where(LocalAuthority.name == la_name)) or find_local_authority(db, la_name)
    return new_case(
        db,
        la=la,
        service=service,
        received_on=received,
        now=NOW,
        today=TODAY,
        recorded_by="test",
        decision_type=decision,
        decision_letter_sent_on=received.replace(day=1) if decision else None,
        requester_name="Pat Example",
        requester_email="pat@families.example",
        requester_phone="0161 000",
        requester_postcode="M1 1AA",
        child_name="Sam Example",
        child_date_of_birth=D(2015, 3, 2),
        notes="private note",
        **fields,
    )


def _event(db, case: Case, name: str, on: date, **kw) -> None:
    from tasks.cases.casework import record_event

    record_event(db, case, name, on, now=NOW, today=TODAY, recorded_by="test", **kw)


def _session(db, case: Case, on: date, status: str, *, outcome=None, cancelled_by=None, cancelled_on=None) -> None:
    mediator = db.scalar(select(Mediator))
    if mediator is None:
        mediator = Mediator(name="Mediator Test", email="mediator@service.example.org", created_at=NOW)
        db.add(mediator)
        db.flush()
    start = datetime.combine(on, time(10), tzinfo=LONDON)
    db.add(
        MediationSession(
            case_id=case.id,
            mediator_id=mediator.id,
            uid=f"{case.ref}-{on}@test",
            start_at=start,
            end_at=start.replace(hour=12),
            status=status,
            venue="1 Example Street",
            outcome=outcome,
            outcome_on=on if outcome else None,
            cancelled_by=cancelled_by,
            cancelled_at=datetime.combine(cancelled_on, time(15), tzinfo=LONDON) if cancelled_on else None,
            booked_at=NOW.replace(year=2026, month=10, day=1),
            updated_at=NOW,
            attendees=[SessionAttendee(role="family", name="Pat Example", email="pat@families.example")],
        )
    )
    db.flush()


def _claim(db, case: Case, claim_id: str, received: date, session_date: date, status: str, pence: int) -> None:
    imported = datetime.combine(received, time(11), tzinfo=LONDON)
    db.add(
        ExpenseClaim(
            claim_id=claim_id,
            case_id=case.id,
            session_date=session_date,
            claimant_name="Pat Example",
            claimant_email="pat@families.example",
            category="mileage",
            amount_pence=pence,
            description="trip",
            status=status,
            imported_at=imported,
            updated_at=imported,
        )
    )


@pytest.fixture
def november(las) -> dict[str, str]:
    """A known November 2026 in the database; returns label -> case reference."""
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        db.execute(
            update(LocalAuthority)
            .where(LocalAuthority.name == "Salford")
            .values(contract_email="contracts@salford.example.org")
        )
        db.add(
            LocalAuthority(
                code="E06000099", name=HOSTILE_LA, aliases=[], sen_team_email="sen@hostile.example.org", created_at=NOW
            )
        )
        db.flush()
        refs = {}
        a = _case(db, "Salford", D(2026, 11, 2))
        _event(db, a, "information-given", D(2026, 11, 3))
        _event(db, a, "mediation-declined", D(2026, 11, 4))
        _event(db, a, "certificate-issued", D(2026, 11, 9), cert_type="declined")  # event only: trigger derived
        b = _case(db, "Salford", D(2026, 11, 5), decision="plan_contents", sections=["B", "F"])
        _event(db, b, "mediation-requested", D(2026, 11, 6))
        _event(db, b, "la-received-request", D(2026, 11, 9))
        _session(db, b, D(2026, 11, 20), "held", outcome="agreed")
        _event(db, b, "mediation-concluded", D(2026, 11, 20))
        _event(db, b, "agreement-reached", D(2026, 11, 20), items=("assess",))
        db.add(
            Certificate(
                number="CERT-B",
                case_id=b.id,
                type="after-mediation",
                trigger_on=D(2026, 11, 20),
                issued_on=D(2026, 11, 30),
                status="issued",
                created_at=NOW,
            )
        )
        _event(db, b, "certificate-issued", D(2026, 11, 30), cert_type="after-mediation")  # row + event: counted once
        c = _case(db, "Salford", D(2026, 11, 10), service="drs", decision=None)
        d = _case(db, "Salford", D(2026, 10, 5), decision="refuse_plan")
        _event(db, d, "mediation-requested", D(2026, 10, 6))
        _event(db, d, "la-received-request", D(2026, 10, 7))
        _session(db, d, D(2026, 11, 5), "cancelled", cancelled_by="family", cancelled_on=D(2026, 11, 2))
        _session(db, d, D(2026, 11, 12), "held", outcome="partial")
        _event(db, d, "mediation-concluded", D(2026, 11, 12), detail={"breach_reason": HOSTILE})
        _claim(db, d, "CL-1", D(2026, 11, 13), D(2026, 11, 12), "paid", 2250)
        _claim(db, d, "CL-2", D(2026, 11, 14), D(2026, 11, 12), "pending", 1260)
        e = _case(db, "Manchester", D(2026, 11, 3))
        _event(db, e, "mediation-requested", D(2026, 11, 4))
        _event(db, e, "la-received-request", D(2026, 11, 5))
        _session(db, e, D(2026, 11, 25), "cancelled", cancelled_by="la", cancelled_on=D(2026, 11, 20))
        _event(db, e, "la-cannot-arrange", D(2026, 11, 23))
        _event(db, e, "certificate-issued", D(2026, 11, 26), cert_type="deemed")
        _claim(db, e, "CL-3", D(2026, 10, 30), D(2026, 10, 20), "approved", 900)
        f = _case(db, "Manchester", D(2026, 3, 10), decision="cease_plan")
        _event(db, f, "mediation-declined", D(2026, 3, 12))
        _event(db, f, "certificate-issued", D(2026, 3, 13), cert_type="declined")
        h = _case(db, HOSTILE_LA, D(2026, 11, 16))
        refs = {"A": a.ref, "B": b.ref, "C": c.ref, "D": d.ref, "E": e.ref, "F": f.ref, "H": h.ref}
        db.commit()
    return refs


#: (scope, figure key, month count, month out of, year-to-date count, year-to-date out of)
EXPECTED = [
    ("All local authorities", "referrals_total", 5, 5, 6, 6),
    ("All local authorities", "referrals_mediation", 4, 5, 5, 6),
    ("All local authorities", "referrals_drs", 1, 5, 1, 6),
    ("All local authorities", "referrals_decision_refuse_assessment", 3, 4, 3, 5),
    ("All local authorities", "referrals_decision_plan_contents", 1, 4, 1, 5),
    ("All local authorities", "referrals_decision_refuse_plan", 0, 4, 1, 5),
    ("All local authorities", "decisions_total", 3, 3, 4, 4),
    ("All local authorities", "decisions_chose_mediation", 2, 3, 3, 4),
    ("All local authorities", "decisions_declined", 1, 3, 1, 4),
    ("All local authorities", "certificates_total", 3, 3, 3, 3),
    ("All local authorities", "certificates_declined", 1, 3, 1, 3),
    ("All local authorities", "certificates_after-mediation", 1, 3, 1, 3),
    ("All local authorities", "certificates_deemed", 1, 3, 1, 3),
    ("All local authorities", "certificates_on_time", 2, 3, 2, 3),
    ("All local authorities", "meetings_held", 2, 2, 2, 2),
    ("All local authorities", "meetings_within_30_days", 1, 2, 1, 2),
    ("All local authorities", "meetings_late_reason_recorded", 1, 1, 1, 1),
    ("All local authorities", "outcomes_total", 2, 2, 2, 2),
    ("All local authorities", "outcomes_agreed", 1, 2, 1, 2),
    ("All local authorities", "outcomes_partial", 1, 2, 1, 2),
    ("All local authorities", "outcomes_not_agreed", 0, 2, 0, 2),
    ("All local authorities", "followups_met", 0, 0, 0, 0),
    ("All local authorities", "sessions_cancelled", 2, 4, 2, 4),
    ("All local authorities", "cancelled_by_family", 1, 2, 1, 2),
    ("All local authorities", "cancelled_by_la", 1, 2, 1, 2),
    ("All local authorities", "claims_total", 2, 2, 3, 3),
    ("All local authorities", "claims_paid", 1, 2, 1, 3),
    ("All local authorities", "claims_pending", 1, 2, 1, 3),
    ("All local authorities", "claims_approved", 0, 2, 1, 3),
    ("Salford", "referrals_total", 3, 3, 4, 4),
    ("Salford", "meetings_within_30_days", 1, 2, 1, 2),
    ("Salford", "certificates_on_time", 1, 2, 1, 2),
    ("Manchester", "referrals_total", 1, 1, 1, 1),
    ("Manchester", "certificates_on_time", 1, 1, 1, 1),
    ("Manchester", "sessions_cancelled", 1, 1, 1, 1),
    ("Manchester", "claims_total", 0, 0, 1, 1),
    ("Bolton", "referrals_total", 0, 0, 0, 0),
]
MONEY = {
    ("All local authorities", "claims_total"): (35.10, 44.10),
    ("All local authorities", "claims_paid"): (22.50, 22.50),
    ("Manchester", "claims_total"): (0, 9.00),
}


def _run(tmp_path: Path, **kw) -> dict:
    from tasks.reporting import job

    return job.run("2026-11", kw.pop("now", NOW), out=str(tmp_path / "out"), **kw).as_dict()


def _summary_rows(path: str) -> dict[tuple[str, str], tuple]:
    ws = openpyxl.load_workbook(path)["Summary"]
    header = [c.value for c in ws[4]]
    assert header[:4] == ["Scope", "Section", "Measure", "Month: count"] and header[-1] == "Figure key"
    return {(r[0].value, r[11].value): tuple(c.value for c in r[3:11]) for r in ws.iter_rows(min_row=5)}


def test_every_headline_figure_is_in_the_workbook_cell_by_cell(november, tmp_path):
    result = _run(tmp_path)
    rows = _summary_rows(result["workbook"])
    for scope, key, mn, md, yn, yd in EXPECTED:
        got = rows[(scope, key)]
        assert got[0:2] == (mn, md) and got[3:5] == (yn, yd), (scope, key, got)
        assert got[2] == (pytest.approx(mn / md) if md else None), (scope, key)
        assert got[5] == (pytest.approx(yn / yd) if yd else None), (scope, key)
    for (scope, key), (month_gbp, ytd_gbp) in MONEY.items():
        assert rows[(scope, key)][6:8] == (pytest.approx(month_gbp), pytest.approx(ytd_gbp))


def test_presentation_frozen_filtered_formatted_and_charted(november, tmp_path):
    wb = openpyxl.load_workbook(_run(tmp_path)["workbook"])
    assert wb.sheetnames[:2] == ["Cover", "Summary"] and {
        "Salford",
        "Manchester",
        "Clocks",
        "Late meetings",
        "Charts",
    } <= set(wb.sheetnames)
    summary = wb["Summary"]
    assert summary.freeze_panes == "D5" and summary.auto_filter.ref.startswith("A4:L")
    assert summary.print_title_rows == "$4:$4"
    row = next(r for r in summary.iter_rows(min_row=5) if r[11].value == "certificates_on_time")
    assert row[5].number_format == "0.0%" and "£" in row[9].number_format
    assert summary.column_dimensions["C"].width > 40
    cover = wb["Cover"]
    assert isinstance(cover["B5"].value, datetime) and cover["B5"].number_format == "DD/MM/YYYY"
    assert any(c.value == "Certificates issued" for c in cover["A"])
    charts = wb["Charts"]._charts
    assert len(charts) == 2  # referrals per LA (bar) and certificates trend (line)
    clocks = wb["Clocks"]
    lines = {(r[0].value, r[2].value): r for r in clocks.iter_rows(min_row=5)}
    cert_b = lines[
        (november["B"], "Issue the mediation certificate [certificate_due]")
    ]  # due Wed 25 Nov, issued Mon 30 Nov
    assert cert_b[7].value == "met late" and cert_b[8].value == 3
    assert isinstance(cert_b[4].value, datetime) and cert_b[4].number_format == "DD/MM/YYYY"
    assert lines[(november["A"], "Issue the mediation certificate [certificate_due]")][7].value == "met"


def test_la_sheet_lists_its_cases_by_reference_without_names(november, tmp_path):
    wb = openpyxl.load_workbook(_run(tmp_path)["workbook"])
    ws = wb["Salford"]
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert {november[k] for k in "ABCD"} <= set(values)
    assert november["E"] not in values
    everything = " ".join(str(c.value) for s in wb for row in s.iter_rows() for c in row if c.value is not None)
    assert "Pat Example" not in everything and "Sam Example" not in everything and "families.example" not in everything


def test_per_la_workbooks_contain_no_other_la(november, tmp_path):
    result = _run(tmp_path)
    refs_by_la = {
        "E08000006": {november[k] for k in "ABCD"},
        "E08000003": {november[k] for k in "EF"},
        "E06000099": {november["H"]},
        "E08000001": set(),
        "E06000008": set(),
    }
    names = {
        "E08000006": "Salford",
        "E08000003": "Manchester",
        "E08000001": "Bolton",
        "E06000008": "Blackburn with Darwen",
        "E06000099": HOSTILE_LA,
    }
    all_refs = set().union(*refs_by_la.values())
    assert set(result["la_workbooks"]) == set(refs_by_la)
    for code, path in result["la_workbooks"].items():
        wb = openpyxl.load_workbook(path)
        texts = [str(c.value) for s in wb for row in s.iter_rows() for c in row if c.value is not None]
        found = {ref for ref in all_refs if any(ref in t for t in texts)}
        assert found <= refs_by_la[code], (code, found - refs_by_la[code])
        others = [n for c, n in names.items() if c != code] + [c for c in names if c != code]
        assert not [t for t in texts for n in others if n in t], code
    salford = openpyxl.load_workbook(result["la_workbooks"]["E08000006"])
    rows = _summary_rows(result["la_workbooks"]["E08000006"])
    assert rows[("Salford", "referrals_total")][:2] == (3, 3)
    assert {k[0] for k in rows} == {"Salford"}
    assert "Manchester" not in salford.sheetnames


def test_hostile_text_stays_text(november, tmp_path):
    result = _run(tmp_path)
    for path in [result["workbook"], *result["la_workbooks"].values()]:
        wb = openpyxl.load_workbook(path)
        formulas = [(s.title, c.coordinate) for s in wb for row in s.iter_rows() for c in row if c.data_type == "f"]
        assert formulas == [], path
    late = openpyxl.load_workbook(result["workbook"])["Late meetings"]
    (row,) = list(late.iter_rows(min_row=5))
    assert row[0].value == november["D"] and row[5].value == 6
    assert row[7].value == "'" + HOSTILE and row[7].data_type == "s"
    summary = openpyxl.load_workbook(result["workbook"])["Summary"]
    assert any(r[0].value == "'" + HOSTILE_LA for r in summary.iter_rows(min_row=5))


def _all_values(path: str) -> dict:
    wb = openpyxl.load_workbook(path)
    return {
        (s.title, c.coordinate): c.value
        for s in wb
        for row in s.iter_rows()
        for c in row
        if not (s.title == "Cover" and c.coordinate == "B7")
    }  # B7: generated at


def test_rerun_gives_the_same_workbook_and_emails_nobody_twice(november, tmp_path):
    from tasks.db import unit_of_work

    first = _run(tmp_path)
    before = _all_values(first["workbook"])
    assert first["emails"]["queued"] == 1 + 5 and first["emails"]["already_queued"] == 0
    second = _run(tmp_path, now=datetime(2026, 12, 3, 14, 0, tzinfo=UTC))
    assert _all_values(second["workbook"]) == before
    assert second["emails"]["queued"] == 0 and second["emails"]["already_queued"] == 6
    third = _run(tmp_path, resend=True)
    assert third["emails"]["queued"] == 6
    with unit_of_work() as db:
        keys = sorted(db.scalars(select(OutboxEmail.key)).all())
        mails = {m.key: m for m in db.scalars(select(OutboxEmail))}
        assert len(keys) == 12
        team = mails["monthly-report:2026-11:" + address_token("team@service.example.org")]
        assert [a.filename for a in team.attachments] == ["drs-monthly-2026-11.xlsx"]
        salford = mails[
            "monthly-report:2026-11:" + address_token("contracts@salford.example.org")
        ]  # contract_email wins
        assert [a.filename for a in salford.attachments] == ["drs-monthly-2026-11-E08000006.xlsx"]
        assert (
            "monthly-report:2026-11:" + address_token("sen@manchester.example.org") in mails
        )  # falls back to the SEN team
        assert "monthly-report:2026-11:" + address_token("sen@manchester.example.org") + ":resend-1" in mails
        assert "Pat" not in salford.subject and salford.kind == "monthly-report"
        assert not [k for k in keys if "@" in k]  # no address in any key (issue 17)


def test_figures_survive_anonymisation(november, tmp_path):
    from reports.monthly import build_report
    from tasks.db import unit_of_work
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.reporting.load import load_report_input

    before_path = _run(tmp_path)["workbook"]
    before_values = _all_values(before_path)
    with unit_of_work() as db:
        before = build_report(load_report_input(db, "2026-11"), working_calendar())
        db.execute(
            update(Case).values(
                requester_role=None,
                requester_name=None,
                requester_email=None,
                requester_phone=None,
                requester_postcode=None,
                child_name=None,
                child_date_of_birth=None,
                notes=None,
                decision_letter_sent_on=None,
                anonymised_at=NOW,
            )
        )
        db.execute(update(CaseEvent).values(note=None))
        db.execute(update(ExpenseClaim).values(claimant_name=None, claimant_email=None, description=None))
        db.execute(update(SessionAttendee).values(name=None, email=None))
        db.execute(update(MediationSession).values(venue=None, access_notes=None, online_url=None))
        db.commit()
    with unit_of_work() as db:
        after = build_report(load_report_input(db, "2026-11"), working_calendar())
    assert after == before
    assert _all_values(_run(tmp_path)["workbook"]) == before_values


def test_cli_report_monthly(november, drs, tmp_path):
    r = drs(
        "report", "monthly", "--month", "2026-11", "--today", "2026-12-01", "--out", str(tmp_path / "cli"), "--json"
    )
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["month"] == "2026-11" and Path(doc["workbook"]).exists()
    assert doc["period"]["year_to_date"] == {"from": "2026-04-01", "to": "2026-11-30"}
    assert doc["kpis"][0]["certificates_on_time"] == "2/3 (67%)"
    default = drs("report", "monthly", "--today", "2026-12-01", "--json")  # the month just ended, default folder
    assert default.exit_code == 0 and default.json()["month"] == "2026-11"
    assert Path(default.json()["workbook"]).parent.name == "monthly"
    assert default.json()["emails"]["already_queued"] == 6
    bad = drs("report", "monthly", "--month", "Nov-2026", "--today", "2026-12-01")
    assert bad.exit_code == 2 and "YYYY-MM" in bad.stderr
    future = drs("report", "monthly", "--month", "2027-01", "--today", "2026-12-01")
    assert future.exit_code == 2 and "not started" in future.stderr
