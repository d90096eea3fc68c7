"""`drs claims route` and `drs claims paid`: one workbook per LA to its finance mailbox on a real SMTP
server, read back with openpyxl; the exported-state guard; remittances."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.integration.test_claims_support import (
    NOW,
    claim,
    claims_by_id,
    make_case,
    outbox,
    write_csv,
    write_json,
)

SALFORD, MANCHESTER, BWD, BOLTON = "E08000006", "E08000003", "E06000008", "E08000001"
FINANCE = {
    SALFORD: "finance@salford.example.org",
    MANCHESTER: "finance@manchester.example.org",
    BWD: "finance@bwd.example.org",
}
HOSTILE = ['=HYPERLINK("http://evil.example","Click")', "+1", "-2", "@x", "\tTabbed", "\rReturned"]
LATER = NOW + timedelta(minutes=5)


@pytest.fixture
def routed(las, drs, tmp_path):
    """Claims for three LAs with different rates and thresholds, imported and approved."""
    s1, s2 = make_case(SALFORD, 1), make_case(SALFORD, 2, meeting=date(2026, 11, 3))
    m1 = make_case(MANCHESTER, 3)
    b1 = make_case(BWD, 4, meeting=date(2026, 11, 20))
    rows = [
        claim("S-1", s1, 1, miles="20.5", name=HOSTILE[0]),  # 923
        claim("S-2", s1, 1, "parking", amount="9.99", name=HOSTILE[1]),  # 999
        claim("S-3", s2, 2, miles="33.3", session_date="2026-11-03", name=HOSTILE[2]),  # 33.3*45=1498.5 -> 1499
        claim(
            "S-4", s2, 2, "public_transport", amount="23.40", receipt="yes", session_date="2026-11-03", name=HOSTILE[3]
        ),  # 2340
        claim("-2", m1, 3, miles="12.5", name=HOSTILE[4]),  # 12.5*40 = 500
        claim("M-2", m1, 3, "parking", amount="18.00", name=HOSTILE[5]),  # under Manchester's £20: 1800
        claim("B-1", b1, 4, miles="7.5", session_date="2026-11-20"),  # 7.5*30 = 225
        claim("B-2", b1, 4, "meal", amount="4.99", session_date="2026-11-20", description="=cmd|' /C calc'!A0"),
        claim("B-3", b1, 4, "parking", amount="6.00", session_date="2026-11-20"),  # over £5, no receipt: query
    ]
    doc = drs(
        "claims", "import", str(write_csv(tmp_path / "claims.csv", rows)), "--today", "2026-11-27", "--json"
    ).json()
    assert doc["approved"] == 8 and doc["query"] == 1, doc
    # import trims surrounding whitespace; names with a leading tab or CR can still arrive from other
    # systems writing the table, so put two there directly
    from models.db import ExpenseClaim
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        for claim_id, name in (("-2", HOSTILE[4]), ("M-2", HOSTILE[5])):
            db.scalar(select(ExpenseClaim).where(ExpenseClaim.claim_id == claim_id)).claimant_name = name
        db.commit()
    return {"S": (s1, s2), "M": m1, "B": b1}


def _workbook(message):
    (part,) = [p for p in message.iter_attachments()]
    assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return part.get_filename(), load_workbook(io.BytesIO(part.get_content())).active


def _table(ws):
    rows = []
    r = 7
    while ws.cell(row=r, column=1).value and not str(ws.cell(row=r, column=1).value).startswith("Total"):
        rows.append([ws.cell(row=r, column=c) for c in range(1, 11)])
        r += 1
    return rows, [ws.cell(row=r, column=c) for c in range(1, 11)]


def test_each_finance_team_gets_exactly_one_workbook_that_reconciles(routed, drs, smtp_server, drs_env):
    from tasks.mail.delivery import deliver_pending

    result = drs("claims", "route", "--today", "2026-11-27", "--json")
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    by_la = {b["la"]: b for b in doc["batches"]}
    assert set(by_la) == {SALFORD, MANCHESTER, BWD}
    assert {la: (b["claims"], b["total_pence"]) for la, b in by_la.items()} == {
        SALFORD: (4, 923 + 999 + 1499 + 2340),
        MANCHESTER: (2, 500 + 1800),
        BWD: (2, 225 + 499),
    }
    assert doc["claims_sent"] == 8

    deliver_pending(LATER)
    for code, address in FINANCE.items():
        (message,) = smtp_server.to(address)
        filename, ws = _workbook(message)
        batch = by_la[code]
        assert filename == f"{batch['batch_ref']}.xlsx"
        assert "Secretname" not in message.get_body(("plain",)).get_content()
        (attachment,) = message.iter_attachments()
        assert (drs_env.reports_dir / "claims" / filename).read_bytes() == attachment.get_content()
        # header block: batch id, period (dates), generated-at (date-time)
        assert ws["B2"].value == batch["batch_ref"]
        assert isinstance(ws["B3"].value, datetime) and isinstance(ws["D3"].value, datetime)
        assert isinstance(ws["B4"].value, datetime) and ws["B4"].value.date() == date(2026, 11, 27)
        assert ws.freeze_panes == "A7"
        assert ws.auto_filter.ref.startswith("A6:J")
        lines, total = _table(ws)
        assert len(lines) == batch["claims"]
        amounts = [round(Decimal(str(row[6].value)) * 100) for row in lines]
        assert sum(amounts) == round(Decimal(str(total[6].value)) * 100) == batch["total_pence"]
        for row in lines:
            assert row[6].number_format == '"£"#,##0.00' and row[6].data_type == "n"
            assert isinstance(row[2].value, datetime) and row[2].number_format == "DD/MM/YYYY"
            assert row[7].value in ("Yes", "No")
            assert row[9].value.endswith("@families.example.org")
        assert total[6].number_format == '"£"#,##0.00'
        texts = [c.value for c in ws._cells.values() if isinstance(c.value, str)]
        assert not any("Secretname" in t or "calc" in t for t in texts)  # nothing about the child, no description
        assert all(c.data_type != "f" for c in ws._cells.values())

    # Salford: 45p/mile, Manchester 40p/mile; hostile text stays text
    _, salford = _workbook(smtp_server.to(FINANCE[SALFORD])[0])
    lines, _ = _table(salford)
    by_claim = {row[0].value: row for row in lines}
    assert by_claim["S-1"][4].value == 20.5 and by_claim["S-1"][5].value == 0.45 and by_claim["S-1"][6].value == 9.23
    assert by_claim["S-3"][6].value == 14.99
    assert by_claim["S-4"][7].value == "Yes" and by_claim["S-4"][4].value is None
    names = {row[0].value: row[8] for row in lines}
    for claim_id, hostile in zip(("S-1", "S-2", "S-3", "S-4"), HOSTILE):
        assert names[claim_id].data_type == "s" and names[claim_id].value == "'" + hostile
    _, manchester = _workbook(smtp_server.to(FINANCE[MANCHESTER])[0])
    lines, _ = _table(manchester)
    by_claim = {row[8].value: row for row in lines}
    assert lines[0][0].value in ("'-2", "M-2")
    assert {row[0].value for row in lines} == {"'-2", "M-2"}
    assert by_claim["'" + HOSTILE[4]][5].value == 0.4 and by_claim["'" + HOSTILE[4]][6].value == 5
    assert by_claim["'" + HOSTILE[5]][8].data_type == "s"

    # claims moved to sent with their batch; families told; the query stays out
    stored = claims_by_id()
    assert {c.status for k, c in stored.items() if k != "B-3"} == {"sent"} and stored["B-3"].status == "query"
    assert len({c.batch_id for c in stored.values() if c.batch_id}) == 3
    sent = outbox("claim-sent")
    assert len(sent) == 4  # one per claimant per batch, listing their claims
    (parent1,) = smtp_server.to("parent1@families.example.org")
    body = parent1.get_body(("plain",)).get_content()
    assert "claim S-1" in body and "claim S-2" in body and "Total: £19.22" in body and "Salford" in body

    # a second run sends nothing new
    smtp_server.clear()
    again = drs("claims", "route", "--today", "2026-11-27", "--json").json()
    assert again["batches"] == [] and again["claims_sent"] == 0
    deliver_pending(LATER + timedelta(minutes=5))
    assert smtp_server.messages == []
    assert len(list((drs_env.reports_dir / "claims").glob("*.xlsx"))) == 3


def test_a_claim_approved_later_goes_in_a_new_batch_never_twice(routed, drs, smtp_server, tmp_path):
    from tasks.mail.delivery import deliver_pending

    drs("claims", "route", "--today", "2026-11-27")
    first = {c.claim_id: c.batch_id for c in claims_by_id().values()}
    b = routed["B"]
    answered = write_json(
        tmp_path / "b3.json", [claim("B-3", b, 4, "parking", amount="6.00", receipt="yes", session_date="2026-11-20")]
    )
    assert drs("claims", "import", str(answered), "--today", "2026-11-30", "--json").json()["approved"] == 1
    doc = drs("claims", "route", "--today", "2026-11-30", "--json").json()
    assert [(x["la"], x["claims"], x["total_pence"]) for x in doc["batches"]] == [(BWD, 1, 600)]
    after = claims_by_id()
    assert after["B-3"].batch_id not in set(first.values())
    assert all(after[k].batch_id == v for k, v in first.items() if v)
    deliver_pending(LATER + timedelta(days=3))
    assert len(smtp_server.to(FINANCE[BWD])) == 2
    assert len(smtp_server.to(FINANCE[SALFORD])) == 1


def test_guard_refuses_claims_another_run_took(routed, drs_env):
    """The exported-state guard: a claim taken by another run after this run read it aborts the batch."""
    from sqlalchemy import event

    from models.db import ClaimBatch, ExpenseClaim
    from tasks.claims.routing import ClaimsChanged, las_with_claims_to_send, route_la
    from tasks.db import get_engine, unit_of_work

    la_ids = las_with_claims_to_send()
    engine = get_engine()
    fired = []

    @event.listens_for(engine, "before_cursor_execute")
    def steal(conn, cursor, statement, params, context, executemany):
        if statement.startswith("INSERT INTO claim_batches") and not fired:
            fired.append(True)
            # another run's batch took one of the claims first (simulated on a second connection)
            with engine.connect() as other:
                other.execute(
                    ExpenseClaim.__table__.update().where(ExpenseClaim.claim_id == "S-1").values(status="sent")
                )
                other.commit()

    from sqlalchemy.exc import OperationalError

    try:  # PostgreSQL: the guarded UPDATE counts one row short; SQLite: the stale snapshot cannot write
        with pytest.raises((ClaimsChanged, OperationalError)):
            for la_id in la_ids:
                route_la(la_id, date(2026, 11, 27), NOW)
    finally:
        event.remove(engine, "before_cursor_execute", steal)
    with unit_of_work() as db:
        assert db.scalar(select(ClaimBatch.id)) is None
    assert [e for e in outbox("claim-batch")] == []


def test_la_without_a_finance_address_waits_and_the_team_is_told(las, drs, tmp_path):
    from models.db import LocalAuthority
    from tasks.db import unit_of_work

    ref = make_case(BOLTON, 9)
    with unit_of_work() as db:
        db.scalar(select(LocalAuthority).where(LocalAuthority.code == BOLTON)).finance_email = None
        db.commit()
    drs(
        "claims",
        "import",
        str(write_json(tmp_path / "x.json", [claim("X-1", ref, 9, miles="2")])),
        "--today",
        "2026-11-27",
    )
    doc = drs("claims", "route", "--today", "2026-11-27", "--json").json()
    assert doc["batches"] == [] and doc["skipped"][0]["la"] == BOLTON
    assert claims_by_id()["X-1"].status == "approved"
    (alert,) = outbox("claim-no-finance")
    assert alert.to_addr == "team@service.example.org"
    drs("claims", "route", "--today", "2026-11-27")
    assert len(outbox("claim-no-finance")) == 1


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_remittance_marks_claims_paid_and_tells_the_family(routed, drs, smtp_server, tmp_path, kind):
    from tasks.mail.delivery import deliver_pending

    drs("claims", "route", "--today", "2026-11-27")
    rows = [
        {"claim_id": "S-1", "paid_on": "2026-12-04"},
        {"claim_id": "-2", "paid_on": "2026-12-05"},
        {"claim_id": "B-3", "paid_on": "2026-12-05"},
        {"claim_id": "NOPE", "paid_on": "2026-12-05"},
    ]
    if kind == "csv":
        path = tmp_path / "remit.csv"
        path.write_text("claim_id,paid_on\n" + "".join(f"{r['claim_id']},{r['paid_on']}\n" for r in rows))
    else:
        from openpyxl import Workbook

        wb = Workbook()
        wb.active.append(["Claim ID", "Paid on"])
        for r in rows:
            wb.active.append([r["claim_id"], date.fromisoformat(r["paid_on"])])
        path = tmp_path / "remit.xlsx"
        wb.save(path)
    result = drs("claims", "paid", str(path), "--today", "2026-12-07", "--json")
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    assert doc["paid"] == 2 and len(doc["errors"]) == 2
    stored = claims_by_id()
    assert (stored["S-1"].status, stored["S-1"].paid_on) == ("paid", date(2026, 12, 4))
    assert stored["-2"].paid_on == date(2026, 12, 5)
    assert drs("claims", "paid", str(path), "--today", "2026-12-07", "--json").json()["already_paid"] == 2
    smtp_server.clear()
    deliver_pending(LATER + timedelta(days=10))
    paid = [m for m in smtp_server.to("parent1@families.example.org") if "paid" in str(m["Subject"])]
    assert len(paid) == 1 and "4 December 2026" in paid[0].get_body(("plain",)).get_content()
    assert len(outbox("claim-paid")) == 2


def test_one_la_failing_does_not_stop_the_others(routed, drs, monkeypatch):
    import tasks.claims.routing as routing

    real = routing.render_batch_workbook

    def broken_for_manchester(header, lines):
        if header.la_name == "Manchester":
            raise OSError("disk full")
        return real(header, lines)

    monkeypatch.setattr(routing, "render_batch_workbook", broken_for_manchester)
    result = drs("claims", "route", "--today", "2026-11-27", "--json")
    assert result.exit_code == 1 and "E08000003" in result.stderr
    stored = claims_by_id()
    assert stored["M-2"].status == "approved" and stored["M-2"].batch_id is None
    assert stored["S-1"].status == "sent" and stored["B-1"].status == "sent"
    assert sorted(e.to_addr for e in outbox("claim-batch")) == sorted([FINANCE[SALFORD], FINANCE[BWD]])
    monkeypatch.setattr(routing, "render_batch_workbook", real)
    again = drs("claims", "route", "--today", "2026-11-27", "--json")
    assert again.exit_code == 0
    assert [(b["la"], b["claims"]) for b in again.json()["batches"]] == [(MANCHESTER, 2)]
