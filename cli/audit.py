"""`drs audit [REF] [--since D] [--json]`: read the audit trail (who did what, when)."""

from __future__ import annotations

import click

from cli.common import emit_json, json_option, local_tz, parse_date


@click.command()
@click.argument("ref", required=False)
@click.option("--since", default=None, help="only entries recorded on or after this day (YYYY-MM-DD)")
@click.option("--limit", type=int, default=None, help="at most this many entries")
@json_option
def audit(ref: str | None, since: str | None, limit: int | None, as_json: bool) -> None:
    """The audit trail, oldest first: of one case (REF) or of everything."""
    from tasks.cases.casework import get_case
    from tasks.db import unit_of_work
    from tasks.privacy.audit_trail import read_audit

    since_day = parse_date(since, "--since")
    with unit_of_work() as db:
        case_id = None
        if ref:
            case_id = get_case(db, ref).id  # an unknown case: CaseworkError, exit 2
        rows = read_audit(db, case_id=case_id, since=since_day, tz=local_tz(), limit=limit)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        detail = ", ".join(f"{k}={v}" for k, v in (r["detail"] or {}).items())
        back = (
            "" if r["recorded_at"] is None or r["recorded_at"][:16] == r["at"][:16] else f" (effective {r['at'][:16]})"
        )
        click.echo(
            f"{(r['recorded_at'] or r['at'])[:19]}{back}  {r['operator'] or '-'} via {r['actor']}  "
            f"{r['action']}  {r['case_ref'] or ''}  {detail}".rstrip()
        )
