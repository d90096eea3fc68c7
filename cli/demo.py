"""`drs demo`: load the fictional demo data set."""

from __future__ import annotations

import click

from cli.common import resolve_clock, today_options


@click.command()
@today_options
@click.option("--cases", default=150, show_default=True, help="how many fictional cases")
def demo(today: str | None, now: str | None, cases: int) -> None:
    """Load the fictional demo data set (NW England LAs, mediators, ~150 cases)."""
    from tasks.cases.demo import load_demo
    from tasks.db import unit_of_work
    from tasks.operations import progress

    day, moment = resolve_clock(today, now)
    with progress.shown("demo", "cases"), unit_of_work() as db:
        counts = load_demo(db, day, moment, cases=cases)
        db.commit()
    click.echo("demo data loaded: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()), err=True)
