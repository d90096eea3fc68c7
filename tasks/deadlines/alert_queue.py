"""Today's alerts become outbox rows: each alert to each of its audiences, once (by its key).

The team's copy always; the LA's SEN team when the LA has an address (the team's copy says the LA
was to be told, and the digest lists it); the family's own reminders when the case has an address.
Team and LA email lands in office hours, family email outside quiet hours (`not_before_for`).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models.db import Case
from models.domain.alerts import DEFAULT_POLICY, FAMILY, LA, TEAM, Alert, AlertPolicy, alert_key, not_before_for
from tasks.db import unit_of_work
from tasks.settings import get_settings


def queue_alerts(alerts: list[Alert], now: datetime, policy: AlertPolicy = DEFAULT_POLICY, db=None) -> int:
    """Queue each alert to each of its audiences once; returns how many outbox rows are new.
    With `db`, the rows join the caller's transaction (the caller commits); without, one of its own."""
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.mail.outbox import queue_email

    if db is None:
        with unit_of_work() as own:
            queued = queue_alerts(alerts, now, policy, db=own)
            own.commit()
        return queued
    calendar = working_calendar()
    local_now = now.astimezone(ZoneInfo(get_settings().timezone))
    case_ids = {a.case_id for a in alerts if a.case_id is not None and (FAMILY in a.audiences or LA in a.audiences)}
    cases = {c.id: c for c in db.scalars(select(Case).where(Case.id.in_(case_ids)))} if case_ids else {}
    queued = 0
    for alert in alerts:
        for audience in alert.audiences:
            email = _email_for(alert, audience, cases.get(alert.case_id))
            if email is None:
                continue
            to, (subject, text, html) = email
            row = queue_email(
                db,
                key=alert_key(alert, audience),
                kind=f"alert-{alert.kind}",
                to=to,
                subject=subject,
                text=text,
                html=html,
                now=now,
                case_id=alert.case_id,
                not_before=not_before_for(audience, local_now, calendar, policy),
            )
            queued += row is not None
    return queued


def _email_for(alert: Alert, audience: str, case: Case | None) -> tuple[str, tuple[str, str, str]] | None:
    """(to, (subject, text, html)) of `alert` for `audience`, or None when there is no one to write to."""
    from tasks.deadlines.emails import LaContext, family_reminder, la_alert, team_alert

    if audience == TEAM:
        la_emailed = bool(case and case.local_authority and case.local_authority.sen_team_email)
        return get_settings().team_email, team_alert(alert, la_emailed or LA not in alert.audiences)
    if audience == LA:
        la = case.local_authority if case else None
        if case is None or la is None or not la.sen_team_email:
            return None  # the team's copy says the LA was to be told; the digest lists it
        ctx = LaContext(la.name, case.child_name if case.consent_to_contact_la else None, case.decision_letter_sent_on)
        return la.sen_team_email, la_alert(alert, ctx)
    if case is None or not case.requester_email:
        return None
    return case.requester_email, family_reminder(alert, case.requester_name)
