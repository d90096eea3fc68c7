"""`expense-routing` both ways (issue 13): the orchestrator with plain calls and the Prefect flow, on
the same data, while one LA's routing fails for real — its register row holds two finance addresses
in one cell (from before the register checked them), and the outbox takes exactly one recipient.

Both ways every other LA is routed, the summary lists the failure, and the database and the files
afterwards are the same. The flow run ends Failed (the dashboard shows it, the failure hook emails
the team); `drs claims route` exits 1 with the same JSON whether a server runs the flow or not.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import update

from tests.both_ways import DEFAULT_IGNORED, both_ways
from tests.integration.test_claims_support import NOW, TODAY, claim, make_case, write_csv

pytestmark = pytest.mark.flow

SALFORD, MANCHESTER, BWD = "E08000006", "E08000003", "E06000008"
TEAM = "team@service.example.org"
#: Not decided by the job's data: the audit log's wall-clock `recorded_at`, and an .xlsx's bytes
#: (its properties and zip entries carry the wall-clock time, so even its size may differ by a
#: byte); the workbooks are compared by their cells instead.
IGNORED = DEFAULT_IGNORED | {"recorded_at", "content"}


def _workbooks(home) -> list[tuple[str, list[tuple]]]:
    """Every attachment in the outbox and every workbook kept under reports/, as (name, cell values)."""
    import io

    from openpyxl import load_workbook
    from sqlalchemy import select

    from models.db import OutboxAttachment
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        rows = db.execute(select(OutboxAttachment.filename, OutboxAttachment.content).order_by(OutboxAttachment.id))
        attached = [(name, bytes(data)) for name, data in rows]
    kept = [(f"reports/{p.name}", p.read_bytes()) for p in sorted((home / "reports").rglob("*.xlsx"))]
    return [(name, list(load_workbook(io.BytesIO(data)).active.values)) for name, data in attached + kept]


def _files(files: list[tuple[str, int]]) -> list[tuple[str, int | None]]:
    """Every file with its size, the size of a workbook aside (compared by its cells)."""
    return [(path, None if path.endswith(".xlsx") and path.startswith("reports/") else size) for path, size in files]


@pytest.fixture
def claims_waiting(las, drs_env):
    """Approved-to-be claims for three LAs in the inbox: Salford is fine, Manchester's finance cell
    holds two addresses (its routing fails), Blackburn with Darwen has no finance address."""
    from models.db import LocalAuthority
    from tasks.db import unit_of_work

    s, m, b = make_case(SALFORD, 1), make_case(MANCHESTER, 2), make_case(BWD, 3, meeting=TODAY.replace(day=20))
    with unit_of_work() as db:
        db.execute(
            update(LocalAuthority)
            .where(LocalAuthority.code == MANCHESTER)
            .values(finance_email="finance@manchester.example.org; accounts@manchester.example.org")
        )
        db.execute(update(LocalAuthority).where(LocalAuthority.code == BWD).values(finance_email=None))
        db.commit()
    inbox = drs_env.inbox_dir / "claims"
    inbox.mkdir(parents=True)
    write_csv(
        inbox / "web-form.csv",
        [
            claim("S-1", s, 1, miles="10"),
            claim("S-2", s, 1, "parking", amount="3.20"),
            claim("M-1", m, 2, miles="10"),
            claim("B-1", b, 3, miles="4", session_date="2026-11-20"),
        ],
    )
    return {"S": s, "M": m, "B": b}


def _flowed():
    """The flow, as the scheduler runs it: its final state and the summary it failed with."""
    from flows.claims import expense_routing
    from tasks.claims.job import RoutingFailed

    state = expense_routing(today=TODAY, now=NOW, return_state=True)
    assert state.is_failed(), state
    raised = state.result(raise_on_failure=False)
    assert isinstance(raised, RoutingFailed), raised
    return raised.summary


def test_one_la_failing_is_routed_around_and_reported_the_same_both_ways(
    prefect_harness, claims_waiting, drs_env, smtp_server
):
    from tasks.claims import job

    told: dict[str, int] = {}
    sent: dict[str, list] = {}

    def direct():
        smtp_server.clear()
        summary = job.run(TODAY, NOW)
        told["direct"], sent["direct"] = len(smtp_server.to(TEAM)), _workbooks(drs_env.home)
        return summary

    def flowed():
        smtp_server.clear()
        summary = _flowed()
        told["flowed"], sent["flowed"] = len(smtp_server.to(TEAM)), _workbooks(drs_env.home)
        return summary

    d, f = both_ways(drs_env, direct, flowed, ignore=IGNORED)

    assert d.summary.failed == ({"la": MANCHESTER, "error": "ValueError"},)
    assert [(b["la"], b["claims"], b["total_pence"]) for b in d.summary.routed.batches] == [(SALFORD, 2, 770)]
    assert [(s["la"], s["skipped"]) for s in d.summary.routed.not_sent] == [(BWD, "no finance address")]
    assert d.summary.as_dict()["imported"]["imported"] == 4 and d.summary.held == 0

    assert dataclasses.replace(d.summary, skipped=()) == f.summary
    assert d.summary.as_dict() == f.summary.as_dict()
    assert d.summary.skipped == (job.ARTIFACT, job.DECISIONS, job.TEAM_TOLD) and f.summary.skipped == ()
    assert d.tables == f.tables
    assert _files(d.files) == _files(f.files)
    assert sent["direct"] == sent["flowed"]
    assert [name for name, _ in sent["direct"]] == [
        "EXP-E08000006-20261127-01.xlsx",  # the finance email's attachment
        "reports/EXP-E08000006-20261127-01.xlsx",  # the copy kept
    ]
    assert any(path.startswith("reports/claims/EXP-E08000006-") for path, _ in d.files)
    assert not any("E08000003" in path for path, _ in d.files)  # nothing kept for the LA that failed

    # the flow's failure hook emailed the team (straight through SMTP, not the outbox); the direct
    # run leaves that to the person running it (the CLI exits 1) and says so in `skipped`
    assert told == {"direct": 0, "flowed": 1}


def test_the_cli_exits_1_with_the_same_json_with_a_server_and_without(
    prefect_harness, claims_waiting, drs_env, drs, monkeypatch, smtp_server
):
    from prefect.settings import PREFECT_API_URL

    from tests.both_ways import both_ways

    def cli(server: bool):
        def go():
            if server:
                monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
            else:
                monkeypatch.delenv("PREFECT_API_URL", raising=False)
            smtp_server.clear()
            result = drs("claims", "route", "--today", TODAY.isoformat(), "--now", NOW.isoformat(), "--json")
            told = len(smtp_server.to(TEAM))
            return result.exit_code, result.json(), result.stderr, told, _workbooks(drs_env.home)

        return go

    d, f = both_ways(drs_env, cli(server=False), cli(server=True), ignore=IGNORED)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    (d_code, d_json, d_err, d_told, d_books), (f_code, f_json, f_err, f_told, f_books) = d.summary, f.summary
    assert "not recorded" in d_err and "not recorded" not in f_err
    assert d_code == f_code == 1
    assert d_json == f_json
    assert d_json["failed"] == [{"la": MANCHESTER, "error": "ValueError"}]
    assert [b["la"] for b in d_json["batches"]] == [SALFORD]
    for err in (d_err, f_err):
        assert "expense routing failed for E08000003 (ValueError); the other LAs were sent" in err
    assert (d_told, f_told) == (0, 1)  # the flow run's failure hook told the team
    assert d.tables == f.tables and _files(d.files) == _files(f.files) and d_books == f_books
