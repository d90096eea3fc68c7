"""The team's daily deadline digest: one email a working day (key `digest:<date>`) and the rows of
the `deadline-digest` artifacts. Clocks due in the next 5 working days and missed ones, grouped
by LA; case references, clocks (plain words with the code in brackets), owners and dates only —
never names, emails or birth dates.
The rows themselves are decided by the pure `models.domain.digest.digest_rows`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models.db import LocalAuthority
from models.domain.alerts import DEFAULT_POLICY, TEAM, AlertPolicy, not_before_for
from models.domain.clock_labels import clock_label, clock_title
from models.domain.digest import DigestRow, group_by
from tasks.db import unit_of_work
from tasks.mail.outbox import existing_keys
from tasks.settings import get_settings


def digest_groups(rows: list[DigestRow]) -> list[tuple[str, str, list[DigestRow]]]:
    """(la_code, la_name, rows) in LA-code order (LA names are public, not personal data)."""
    grouped = group_by(rows)
    if not grouped:
        return []
    with unit_of_work() as db:
        names = dict(
            db.execute(
                select(LocalAuthority.code, LocalAuthority.name).where(LocalAuthority.code.in_(list(grouped)))
            ).all()
        )
    return [(code, names.get(code, code), group) for code, group in grouped.items()]


def queue_digest(
    today: date,
    now: datetime,
    rows: list[DigestRow],
    extra: Sequence[str] | Callable[[], Sequence[str]] = (),
    policy: AlertPolicy = DEFAULT_POLICY,
) -> bool:
    """Queue the team's digest for `today` (key `digest:<date>`); True when queued now. `extra`:
    the paragraphs at its foot, or what gives them (called only when the digest is written).

    Working days only: the first working day after a weekend or holiday covers it (the digest
    lists missed clocks too)."""
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.deadlines.emails import digest
    from tasks.mail.outbox import queue_email

    if not working_calendar().is_working_day(today):
        return False
    key = f"digest:{today.isoformat()}"
    with unit_of_work() as db:
        if existing_keys(db, [key]):  # queued by an earlier run today: nothing to render
            return False
    settings = get_settings()
    with unit_of_work() as db:  # issue 15: the families to phone, LA addresses to fix
        from tasks.bounces.problems import digest_paragraphs

        extra = (*(extra() if callable(extra) else extra), *digest_paragraphs(db))
    subject, text, html = digest(today, digest_groups(rows), extra)
    local_now = now.astimezone(ZoneInfo(settings.timezone))
    with unit_of_work() as db:
        row = queue_email(
            db,
            key=key,
            kind="digest",
            to=settings.team_email,
            subject=subject,
            text=text,
            html=html,
            now=now,
            not_before=not_before_for(TEAM, local_now, working_calendar(), policy),
        )
        db.commit()
    return row is not None


def digest_table(rows: list[DigestRow]) -> list[dict]:
    """The rows of the `deadline-digest` table artifact: references, codes and dates only."""
    return [
        {
            "la": r.la_code,
            "case": r.case_ref,
            "clock": r.clock,
            "what": clock_label(r.clock),
            "state": r.state,
            "owner": r.owner,
            "due": r.due.isoformat(),
            "target": r.target.isoformat(),
            "working_days_left": r.working_days_left,
        }
        for r in rows
    ]


#: The `deadline-digest` artifacts list at most this many clocks (the digest email lists them all).
ARTIFACT_ROWS = 500


def artifact_table(today: date, rows: Sequence[DigestRow], limit: int = ARTIFACT_ROWS) -> list[dict]:
    """The `deadline-digest` table artifact: the first `limit` rows of `digest_table`, then one
    row saying how many more there are and where; one "nothing due" row when there are none."""
    nothing = dict.fromkeys(("la", "case", "clock", "state", "owner", "due", "target", "working_days_left"), "")
    if not rows:
        return [{**nothing, "clock": "nothing due"}]
    table = digest_table(list(rows[:limit]))
    if len(rows) > limit:
        table.append({**nothing, "clock": more_rows(today, len(rows) - limit)})
    return table


def more_rows(today: date, count: int) -> str:
    """The line closing an artifact cut short: how many rows are left out and where they are."""
    return (
        f"… and {count:,} more: the team's digest email of {today.isoformat()} lists every row "
        f"(outbox key digest:{today.isoformat()}); `drs case show REF` shows a case's clocks"
    )


def digest_markdown(today: date, rows: list[DigestRow], limit: int | None = None) -> str:
    """The `deadline-digest-summary` markdown artifact: counts per LA (every LA) and the clocks,
    at most `limit` clock lines in all (then how many more there are, and where)."""
    out = [f"# Deadlines for {today:%A %d %B %Y}", ""]
    if not rows:
        return "\n".join(out + ["Nothing due in the next 5 working days; nothing missed."])
    left = len(rows) if limit is None else limit
    for code, group in group_by(rows).items():
        missed = sum(r.state == "missed" for r in group)
        out.append(f"## {code}: {len(group) - missed} due, {missed} missed")
        shown = group[: max(left, 0)]
        out.extend(
            f"- {r.case_ref} {clock_title(r.clock)} {'MISSED' if r.state == 'missed' else 'target'} {r.target:%d %b}"
            for r in shown
        )
        if len(shown) < len(group):
            out.append(f"- ({len(group) - len(shown):,} more not listed here)")
        left -= len(shown)
        out.append("")
    if limit is not None and len(rows) > limit:
        out.append(more_rows(today, len(rows) - limit))
    return "\n".join(out)
