"""`drs mediator add --name NAME --email EMAIL`."""

from __future__ import annotations

from datetime import UTC, datetime

import click


@click.group()
def mediator() -> None:
    """Mediators."""


@mediator.command("add")
@click.option("--name", required=True, help="the mediator's name")
@click.option("--email", required=True, help="the mediator's email address")
def add(name: str, email: str) -> None:
    """Register a mediator (again with the same email updates the name)."""
    from tasks.cases.registry import add_mediator
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        row, created = add_mediator(db, name, email, datetime.now(UTC))  # RegistryError: exit 2
        db.commit()
        click.echo(f"mediator {row.id} {'added' if created else 'updated'}", err=True)
