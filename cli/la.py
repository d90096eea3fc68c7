"""`drs la import FILE.csv` and `drs la list [--json]`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from cli.common import InputError, emit_json, json_option


@click.group()
def la() -> None:
    """The local-authority register."""


@la.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_(file: Path) -> None:
    """Add or update local authorities from a CSV file (all rows or none).

    A wrong line is named (file and line) on one line of stderr, exit 2, and nothing changes: the
    register stays as it was."""
    from tasks.cases.registry import MAX_FILE_BYTES, RegistryError, import_register

    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # a bigger file is refused, never read whole
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from None
    try:
        count, created = import_register(data, datetime.now(UTC))
    except RegistryError as exc:
        raise InputError(f"{file.name}: {exc}; nothing was changed") from None
    click.echo(f"{count} local authorities imported ({created} new)", err=True)


@la.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List local authorities with their current policy."""
    from sqlalchemy import select

    from models.db import LocalAuthority
    from tasks.bounces.problems import la_contact_problems
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        rows = []
        problems = la_contact_problems(db)  # issue 15: register addresses that bounce
        for la_ in db.scalars(select(LocalAuthority).order_by(LocalAuthority.name)):
            policy = la_.policies[-1] if la_.policies else None
            rows.append(
                {
                    "code": la_.code,
                    "name": la_.name,
                    "aliases": la_.aliases,
                    "sen_team_email": la_.sen_team_email,
                    "finance_email": la_.finance_email,
                    "contract_email": la_.contract_email,
                    "certificate_needs_approval": la_.certificate_needs_approval,
                    "mileage_rate_pence": policy.mileage_rate_pence if policy else None,
                    "receipt_threshold_pounds": policy.receipt_threshold_pence / 100 if policy else None,
                    "claim_window_days": policy.claim_window_days if policy else None,
                    **_limits(policy),
                    "contact_problems": problems.get(la_.id, []),
                }
            )
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['code']}  {row['name']}")
        for p in row["contact_problems"]:
            click.echo(f"    {p['field']} bounced: {p['reason']} (since {p['since'][:10]}) — fix it with drs la import")


def _limits(policy) -> dict:
    """The LA's sanity limits as `drs la list --json` shows them (the built-in one where the register is silent)."""
    from models.domain.expenses import BUILT_IN_LIMITS as built_in

    def pick(attr: str):
        value = getattr(policy, attr, None) if policy is not None else None
        return getattr(built_in, attr) if value is None else value

    return {
        "max_miles": float(pick("max_miles")),
        "max_item_pounds": pick("max_item_pence") / 100,
        "max_meeting_pounds": pick("max_meeting_pence") / 100,
        "remittance_days": pick("remittance_days"),
    }
