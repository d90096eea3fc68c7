"""Today's alerts become outbox rows: each alert to each of its audiences, once (by its key).

The team's copy always; the LA's SEN team when the LA has an address (the team's copy says the LA
was to be told, and the digest lists it); the family's own reminders when the case has an address.
Team and LA email lands in office hours, family email outside quiet hours (`not_before_for`).

Set-based (issue 14): most of a day's alerts were queued by an earlier run (a due-soon alert is
decided again every day until its target), so the keys already in the outbox are read first, in a
few `IN` queries on the unique key, and only the alerts still to queue are rendered; the case
details they need (addresses, names) come as plain rows, a few `IN` queries too — no ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models.db import Case, LocalAuthority
from models.domain.alerts import DEFAULT_POLICY, LA, TEAM, Alert, AlertPolicy, alert_key, not_before_for
from tasks.db import unit_of_work
from tasks.mail.outbox import existing_keys, insert_emails
from tasks.settings import get_settings

#: Values per `IN (...)` (well under SQLite's and PostgreSQL's limits on bound parameters).
IN_BATCH = 900

#: `db.info` key: outbox keys the caller read in the outbox in the same transaction (`queue_alerts`).
KNOWN_QUEUED = "deadlines.known_queued_keys"

T = TypeVar("T")


@dataclass(frozen=True)
class CaseContact:
    """What an alert's emails need of its case and LA (read as plain columns)."""

    requester_name: str | None
    requester_email: str | None
    child_name: str | None
    consent_to_contact_la: bool
    decision_letter_sent_on: date | None
    la_name: str | None
    la_sen_team_email: str | None


def queue_alerts(alerts: list[Alert], now: datetime, policy: AlertPolicy = DEFAULT_POLICY, db=None) -> int:
    """Queue each alert to each of its audiences once; returns how many outbox rows are new.
    With `db`, the rows join the caller's transaction (the caller commits); without, one of its own.
    Keys the caller already read in the outbox in that transaction (`db.info[KNOWN_QUEUED]`, a set:
    the sweep's `missed` alerts queued on earlier days) are not looked up again."""
    from tasks.deadlines.calendar_source import working_calendar

    if db is None:
        with unit_of_work() as own:
            queued = queue_alerts(alerts, now, policy, db=own)
            own.commit()
        return queued
    todo = _not_yet_queued(db, alerts, db.info.pop(KNOWN_QUEUED, frozenset()))
    if not todo:
        return 0
    calendar = working_calendar()
    local_now = now.astimezone(ZoneInfo(get_settings().timezone))
    not_before: dict[str, datetime | None] = {}  # by audience: the same for every alert of a run
    contacts = case_contacts(db, {a.case_id for a, audience, _ in todo if _needs_case(a, audience)})
    emails = []
    for alert, audience, key in todo:
        email = _email_for(alert, audience, contacts.get(alert.case_id))  # type: ignore[arg-type]  # None: no case
        if email is None:
            continue
        to, (subject, text, html) = email
        if audience not in not_before:
            not_before[audience] = not_before_for(audience, local_now, calendar, policy)
        emails.append(
            {
                "key": key,
                "kind": f"alert-{alert.kind}",
                "to": to,
                "subject": subject,
                "text": text,
                "html": html,
                "case_id": alert.case_id,
                "not_before": not_before[audience],
            }
        )
    return insert_emails(db, emails, now)


def _not_yet_queued(db, alerts: Iterable[Alert], known: AbstractSet[str] = frozenset()) -> list[tuple[Alert, str, str]]:
    """(alert, audience, key) for each audience of each alert whose key is not in the outbox yet,
    in the alerts' order, each key once. `known`: keys already read in the outbox (not looked up)."""
    wanted = [(alert, audience, alert_key(alert, audience)) for alert in alerts for audience in alert.audiences]
    seen = set(known) | existing_keys(db, (key for _, _, key in wanted if key not in known))
    todo = []
    for alert, audience, key in wanted:
        if key not in seen:
            seen.add(key)
            todo.append((alert, audience, key))
    return todo


def case_contacts(db, case_ids: Iterable[int | None]) -> dict[int, CaseContact]:
    """Case id -> its `CaseContact`, plain columns of cases and their LA (one query per `IN_BATCH`)."""
    ids = sorted({i for i in case_ids if i is not None})
    stmt = select(
        Case.id,
        Case.requester_name,
        Case.requester_email,
        Case.child_name,
        Case.consent_to_contact_la,
        Case.decision_letter_sent_on,
        LocalAuthority.name,
        LocalAuthority.sen_team_email,
    ).outerjoin(LocalAuthority, LocalAuthority.id == Case.la_id)
    out: dict[int, CaseContact] = {}
    for chunk in _chunks(ids, IN_BATCH):
        for r in db.execute(stmt.where(Case.id.in_(chunk))):
            out[r[0]] = CaseContact(r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7])
    return out


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _needs_case(alert: Alert, audience: str) -> bool:
    """The email for `audience` reads the case: the LA's and family's always; the team's to say
    whether the LA got its copy."""
    return alert.case_id is not None and (audience != TEAM or LA in alert.audiences)


def _email_for(alert: Alert, audience: str, case: CaseContact | None) -> tuple[str, tuple[str, str, str]] | None:
    """(to, (subject, text, html)) of `alert` for `audience`, or None when there is no one to write to."""
    from tasks.deadlines.emails import LaContext, family_reminder, la_alert, team_alert

    if audience == TEAM:
        la_emailed = bool(case and case.la_sen_team_email)
        return get_settings().team_email, team_alert(alert, la_emailed or LA not in alert.audiences)
    if audience == LA:
        if case is None or case.la_name is None or not case.la_sen_team_email:
            return None  # the team's copy says the LA was to be told; the digest lists it
        ctx = LaContext(
            case.la_name, case.child_name if case.consent_to_contact_la else None, case.decision_letter_sent_on
        )
        return case.la_sen_team_email, la_alert(alert, ctx)
    if case is None or not case.requester_email:
        return None
    return case.requester_email, family_reminder(alert, case.requester_name)
