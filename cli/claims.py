"""`drs claims import | route | paid | decide | list` — expense claims in, out to finance, paid."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from cli.common import InputError, emit_json, fail, json_option, resolve_clock, run_flow, today_options


@click.group()
def claims() -> None:
    """Families' expense claims: import, route to each LA's finance team, record payments."""


@claims.command("import")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@today_options
@json_option
def import_(paths: tuple[Path, ...], today: str | None, now: str | None, as_json: bool) -> None:
    """Import claim files (JSON, CSV, XLSX) or folders; default $DRS_HOME/inbox/claims/."""
    from tasks.claims.claims_in import import_claims

    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    day, moment = resolve_clock(today, now)
    result = import_claims(list(paths), day, moment)
    if as_json:
        emit_json(result)
        return
    for r in result["results"]:
        detail = "; ".join(r.get("errors") or r.get("reasons") or [])
        click.echo(
            f"{r['source']}  {r['claim_id'] or '-'}  {r['case_ref'] or '-'}  {r['status']}"
            + (f"  ({detail})" if detail else "")
        )
    click.echo(
        f"{result['imported']} imported, {result['updated']} updated, {result['duplicates']} duplicate(s), "
        f"{result['invalid']} invalid; approved {result['approved']}, query {result['query']}, "
        f"held {result['held']}, rejected {result['rejected']}",
        err=True,
    )


@claims.command("route")
@today_options
@json_option
def route(today: str | None, now: str | None, as_json: bool) -> None:
    """Batch approved claims per LA, email each finance team its workbook."""
    from tasks.claims import job

    day, moment = resolve_clock(today, now)
    try:
        result = run_flow("flows.claims:expense_routing", direct=_route_directly, today=day, now=moment)
    except job.RoutingFailed as exc:  # the flow run ended Failed: some LAs failed, the others were sent
        result = exc.summary.as_dict()
    except Exception as exc:  # the flow run failed (the dashboard has the details)
        fail(f"expense routing failed: {exc}")
    if as_json:
        emit_json(result)
    else:
        for b in result["batches"]:
            click.echo(f"{b['la']}  {b['batch_ref']}  {b['claims']} claim(s)  £{b['total_pence'] / 100:,.2f}")
        for s in result["skipped"]:
            click.echo(f"{s['la']}  not sent: {s['skipped']} ({s['claims']} claim(s) waiting)")
        click.echo(
            f"{len(result['batches'])} batch(es), {result['claims_sent']} claim(s) sent; "
            f"{result['held']} held for an admin",
            err=True,
        )
    if result["failed"]:
        fail(
            "expense routing failed for "
            + ", ".join(f"{f['la']} ({f['error']})" for f in result["failed"])
            + "; the other LAs were sent, these wait for the next run"
        )


def _route_directly(today: date, now: datetime) -> dict[str, Any]:
    """`expense-routing` without a Prefect server: the same orchestrator, each step a plain call."""
    from tasks.claims import job

    return job.run(today, now).as_dict()


@claims.command("paid")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@today_options
@json_option
def paid(file: Path, today: str | None, now: str | None, as_json: bool) -> None:
    """Import an LA remittance (CSV or XLSX: claim_id, paid_on); tells each family."""
    from tasks.claims.files import ClaimFileError
    from tasks.claims.remittance import import_remittance

    if not file.exists():
        raise InputError(f"{file}: no such file")
    _, moment = resolve_clock(today, now)
    try:
        result = import_remittance(file, moment)
    except ClaimFileError as exc:
        raise InputError(str(exc)) from None
    if as_json:
        emit_json(result)
        return
    for e in result["errors"]:
        click.echo(f"{e['claim_id'] or '-'}  {e['error']}")
    click.echo(
        f"{result['paid']} paid, {result['already_paid']} already paid, {len(result['errors'])} problem(s)", err=True
    )


@claims.command("decide")
@click.argument("claim_id")
@click.option("--approve/--refuse", "approve", required=True, help="approve for the next batch, or refuse")
@click.option("--reason", required=True, help="why (a refusal reason is emailed to the family)")
@today_options
@json_option
def decide(claim_id: str, approve: bool, reason: str, today: str | None, now: str | None, as_json: bool) -> None:
    """Decide a held claim (what the dashboard form does)."""
    from tasks.claims.held import ClaimError, decide_held_claim

    _, moment = resolve_clock(today, now)
    try:
        result = decide_held_claim(claim_id, approve, reason, moment, decided_by="admin (cli)")
    except ClaimError as exc:
        raise InputError(str(exc)) from None
    if as_json:
        emit_json(result)
    else:
        click.echo(f"{result['claim_id']}  {result['case_ref']}  {result['status']}")


@claims.command("list")
@click.option(
    "--status",
    default=None,
    type=click.Choice(["pending", "approved", "query", "held", "rejected", "sent", "paid"]),
    help="only claims with this status",
)
@json_option
def list_(status: str | None, as_json: bool) -> None:
    """Claims with their status (references, amounts and reasons; no names)."""
    from sqlalchemy import select

    from models.db import Case, ClaimBatch, ExpenseClaim
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        stmt = (
            select(ExpenseClaim, Case.ref, ClaimBatch.batch_ref)
            .join(Case, Case.id == ExpenseClaim.case_id)
            .outerjoin(ClaimBatch, ClaimBatch.id == ExpenseClaim.batch_id)
            .order_by(ExpenseClaim.id)
        )
        if status:
            stmt = stmt.where(ExpenseClaim.status == status)
        rows: list[dict[str, Any]] = [
            {
                "claim_id": c.claim_id,
                "case_ref": ref,
                "session_date": c.session_date.isoformat(),
                "category": c.category,
                "amount_pence": c.amount_pence,
                "status": c.status,
                "reason": c.reason,
                "batch_ref": batch,
                "paid_on": c.paid_on.isoformat() if c.paid_on else None,
            }
            for c, ref, batch in db.execute(stmt)
        ]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['claim_id']}  {r['case_ref']}  {r['session_date']}  {r['category']}  "
            f"£{r['amount_pence'] / 100:,.2f}  {r['status']}" + (f"  ({r['reason']})" if r["reason"] else "")
        )
