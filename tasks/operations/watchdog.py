"""What the watchdog reads and does: the outbox backlog, and alerting the team once a day per problem.

Alerts go through the mailer directly (never the outbox — the outbox may be what is stuck). Each
problem is sent at most once per local day: the date of the last alert per problem is kept in the
`meta` table under `watchdog:<problem>`, written only after the mailer accepted the message.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, or_, select

from models.db import Meta, OutboxEmail
from models.domain.operations import OUTBOX_MAX_AGE, Problem
from tasks.db import unit_of_work
from tasks.mail.layout import render_email
from tasks.mail.mailer import OutgoingEmail, mailer_from_settings
from tasks.settings import get_settings


def outbox_backlog(now: datetime) -> tuple[int, datetime | None]:
    """(how many messages became due more than an hour before `now` and are still not sent,
    when the oldest became due). Due = created, or `not_before` for quiet-hours mail."""
    cutoff = now - OUTBOX_MAX_AGE
    with unit_of_work() as db:
        waiting = (
            OutboxEmail.status.in_(("pending", "sending")),
            OutboxEmail.created_at <= cutoff,
            or_(OutboxEmail.not_before.is_(None), OutboxEmail.not_before <= cutoff),
        )
        count = db.scalar(select(func.count()).select_from(OutboxEmail).where(*waiting))
        oldest = db.scalar(select(func.min(OutboxEmail.created_at)).where(*waiting)) if count else None
    return count or 0, oldest


def alert_team_once(problems: list[Problem], today: date, now: datetime) -> list[str]:
    """Email the team about each problem not yet alerted on `today`; returns the keys sent.

    A mailer failure is raised after the others were tried (the run then fails and the failure
    hook tries again), and that problem stays un-marked so the next run retries it.
    """
    settings = get_settings()
    sent: list[str] = []
    errors: list[str] = []
    with unit_of_work() as db:
        due = []
        for problem in problems:
            mark = db.get(Meta, f"watchdog:{problem.key}")
            if mark is None or mark.value != today.isoformat():
                due.append(problem)
    if not due:
        return sent
    mailer = mailer_from_settings(settings)
    try:
        for problem in due:
            text, html = render_email(problem.subject, [problem.text], sign_off="The drs-flows watchdog", footer=None)
            try:
                mailer.send(
                    OutgoingEmail(
                        to=settings.team_email,
                        subject=f"[drs-flows] {problem.subject}",
                        text=text,
                        html=html,
                        message_key=f"watchdog-{problem.key}-{today.isoformat()}",
                    )
                )
            except Exception as exc:  # noqa: BLE001 — reported below, after the others
                mailer.close()
                errors.append(f"{problem.key}: {type(exc).__name__}")
                continue
            with unit_of_work() as db:
                mark = db.get(Meta, f"watchdog:{problem.key}")
                if mark is None:
                    db.add(Meta(key=f"watchdog:{problem.key}", value=today.isoformat()))
                else:
                    mark.value = today.isoformat()
                db.commit()
            sent.append(problem.key)
    finally:
        mailer.close()
    if errors:
        raise RuntimeError("could not email the team: " + "; ".join(errors))
    return sent
