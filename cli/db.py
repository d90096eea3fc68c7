"""`drs db upgrade`."""

from __future__ import annotations

import click


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    from models.db.migrate import upgrade as run_upgrade
    from tasks.settings import get_settings

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    run_upgrade(settings.db_url)
    click.echo("database is up to date", err=True)
