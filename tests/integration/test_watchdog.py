"""The watchdog's I/O: the outbox backlog, alerts by real SMTP once a day per problem, the Today view."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from models.db import Meta, OutboxEmail
from models.domain.operations import Problem
from tasks.db import unit_of_work

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
PROBLEM = Problem("deadline-monitor", "Deadline monitor has not run today", "It has never completed successfully.")


def _queue(key: str, created: datetime, not_before: datetime | None = None, status: str = "pending") -> None:
    from tasks.mail.outbox import queue_email

    with unit_of_work() as db:
        row = queue_email(
            db,
            key=key,
            kind="test",
            to="someone@families.example",
            subject="s",
            text="t",
            now=created,
            not_before=not_before,
        )
        row.status = status
        db.commit()


def test_outbox_backlog_counts_only_mail_due_over_an_hour_ago(drs_env):
    from tasks.operations.watchdog import outbox_backlog

    _queue("old", NOW - timedelta(hours=2))
    _queue("fresh", NOW - timedelta(minutes=20))
    _queue("quiet-hours", NOW - timedelta(hours=10), not_before=NOW - timedelta(minutes=30))
    _queue("sent", NOW - timedelta(hours=5), status="sent")
    count, oldest = outbox_backlog(NOW)
    assert count == 1 and oldest == NOW - timedelta(hours=2)


def test_alerts_go_to_the_team_by_smtp_once_a_day_per_problem(smtp_server):
    from tasks.operations.watchdog import alert_team_once

    assert alert_team_once([PROBLEM], date(2026, 11, 27), NOW) == ["deadline-monitor"]
    assert alert_team_once([PROBLEM], date(2026, 11, 27), NOW + timedelta(hours=1)) == []
    [message] = smtp_server.to("team@service.example.org")
    assert message["Subject"] == "[drs-flows] Deadline monitor has not run today"
    assert "never completed successfully" in message.get_body(("plain",)).get_content()
    with unit_of_work() as db:  # the outbox is not used: it may be what is broken
        assert db.scalars(select(OutboxEmail)).all() == []
        assert db.get(Meta, "watchdog:deadline-monitor").value == "2026-11-27"
    assert alert_team_once([PROBLEM], date(2026, 11, 30), NOW + timedelta(days=3)) == ["deadline-monitor"]
    assert len(smtp_server.messages) == 2


def test_a_failed_alert_is_retried_by_the_next_run(drs_env, monkeypatch):
    import pytest

    from tasks.operations.watchdog import alert_team_once
    from tasks.settings import get_settings

    monkeypatch.setenv("DRS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DRS_SMTP_PORT", "9")  # nothing listens: connection refused
    monkeypatch.setenv("DRS_SMTP_SECURITY", "none")
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="could not email the team: deadline-monitor"):
        alert_team_once([PROBLEM], date(2026, 11, 27), NOW)
    with unit_of_work() as db:
        assert db.get(Meta, "watchdog:deadline-monitor") is None


def test_today_view_lists_references_only(las):
    from tasks.cases.demo import load_demo
    from tasks.operations.today import build_today, render_today

    with unit_of_work() as db:
        load_demo(db, date(2026, 11, 27), NOW, cases=60)
        db.commit()
    view = build_today(date(2026, 11, 27), NOW)
    text = render_today(view)
    assert text.startswith("# Today — Friday 27 November 2026")
    assert [s.title for s in view.sections] == [
        "Phone these families",
        "LA addresses that bounce",  # issue 15
        "Clocks due today",
        "Clocks missed or overdue",
        "Certificates awaiting approval",
        "Expense claims held or queried",
        "Emails that failed",
        "Meetings today",
    ]
    assert "@" not in text and "(demo)" not in text  # no addresses, no names
    assert sum(view.counts().values()) > 0


def test_today_view_counts_every_failed_email_and_lists_the_first_ones(drs_env):
    from tasks.operations.today import LIMIT, build_today, render_today

    for k in range(LIMIT + 4):
        _queue(f"failed-{k}", NOW - timedelta(hours=1), status="failed")
    _queue("sent", NOW - timedelta(hours=1), status="sent")
    view = build_today(date(2026, 11, 27), NOW)
    failed = next(s for s in view.sections if s.title == "Emails that failed")
    assert failed.total == LIMIT + 4
    assert len(failed.lines) == LIMIT
    assert failed.lines[0].startswith(f"no case — outbox #{LIMIT + 4} ")  # newest first
    assert f"## Emails that failed ({LIMIT + 4})" in render_today(view)
    assert "- … and 4 more" in render_today(view)
    assert next(s for s in view.sections if s.title == "Certificates awaiting approval").total == 0
