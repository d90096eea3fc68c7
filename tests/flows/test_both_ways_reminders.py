"""The session reminders job both ways (issue 13): `tasks.sessions.job.run` with plain calls (what
`drs remind` does without a server) and the `session-reminders` flow, on the same booked meeting
with its 7-day reminders due — the same summary, the same rows, the same files."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.both_ways import both_ways
from tests.integration.test_sessions_cli import LA, MEDIATOR, make_case

pytestmark = pytest.mark.flow

LONDON = ZoneInfo("Europe/London")
BOOKED = datetime(2026, 11, 2, 10, tzinfo=LONDON)
DUE = datetime(2026, 11, 23, 10, tzinfo=LONDON)  # 7 days before Mon 30 Nov 10:00


def book_a_meeting() -> None:
    from tasks.cases.registry import add_mediator
    from tasks.db import unit_of_work
    from tasks.sessions.meetings import Person, schedule_session

    with unit_of_work() as db:
        add_mediator(db, "Mia Mediator", MEDIATOR, BOOKED)
        db.commit()
    schedule_session(
        make_case(),
        start=datetime(2026, 11, 30, 10, tzinfo=LONDON),
        end=datetime(2026, 11, 30, 12, tzinfo=LONDON),
        mediator_email=MEDIATOR,
        now=BOOKED,
        venue="Community Hall, 1 Example Street",
        la_officer=Person("Lee Officer", LA),
    )


def test_reminders_both_ways(prefect_harness, drs_env, las):
    from flows.reminders import session_reminders
    from tasks.sessions import job
    from tasks.steps import call

    book_a_meeting()
    direct, flowed = both_ways(
        drs_env,
        lambda: job.run(DUE.date(), DUE, step=call),
        lambda: session_reminders(now=DUE),
    )
    assert direct.summary.as_dict() == flowed.summary
    assert direct.summary.skipped == ("dashboard artifact session-reminders",)
    assert (direct.summary.checked, direct.summary.queued, dict(direct.summary.by_kind)) == (1, 3, {"7d": 3})
    assert direct.tables == flowed.tables
    reminders = [row for row in direct.tables["outbox"] if any(str(v).startswith("reminder:") for v in row)]
    assert len(reminders) == 3
    assert direct.files == flowed.files
