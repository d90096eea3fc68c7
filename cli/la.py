"""`drs la import FILE.csv` and `drs la list [--json]`."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from cli.common import InputError, emit_json, json_option


@click.group()
def la() -> None:
    """The local-authority register."""


@la.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_(file: Path) -> None:
    """Add or update local authorities from a CSV file (all rows or none)."""
    from tasks.db import unit_of_work
    from tasks.registry import RegistryError, parse_la_csv, upsert_local_authority

    try:
        rows = parse_la_csv(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from None
    except RegistryError as exc:
        raise InputError(f"{file.name}: {exc}") from None
    now = datetime.now(timezone.utc)
    created = 0
    with unit_of_work() as db:
        for row in rows:
            created += upsert_local_authority(db, row, now)[1]
        db.commit()
    click.echo(f"{len(rows)} local authorities imported ({created} new)", err=True)


@la.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List local authorities with their current policy."""
    from sqlalchemy import select

    from models.db import LocalAuthority
    from tasks.db import unit_of_work

    from tasks.bounces import la_contact_problems

    with unit_of_work() as db:
        rows = []
        problems = la_contact_problems(db)  # issue 15: register addresses that bounce
        for la_ in db.scalars(select(LocalAuthority).order_by(LocalAuthority.name)):
            policy = la_.policies[-1] if la_.policies else None
            rows.append({
                "code": la_.code, "name": la_.name, "aliases": la_.aliases,
                "sen_team_email": la_.sen_team_email, "finance_email": la_.finance_email,
                "contract_email": la_.contract_email, "certificate_needs_approval": la_.certificate_needs_approval,
                "mileage_rate_pence": policy.mileage_rate_pence if policy else None,
                "receipt_threshold_pounds": policy.receipt_threshold_pence / 100 if policy else None,
                "claim_window_days": policy.claim_window_days if policy else None,
                "contact_problems": problems.get(la_.id, []),
            })
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['code']}  {row['name']}")
        for p in row["contact_problems"]:
            click.echo(f"    {p['field']} bounced: {p['reason']} (since {p['since'][:10]}) — fix it with drs la import")
