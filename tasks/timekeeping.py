"""Resolving `today`/`now` for flows and commands: time is a parameter, defaulting to now locally.

The only place besides the CLI that reads the clock; domain code never does.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from models.domain.dates import as_local
from models.domain.fields import date_problem
from models.errors import InvalidInput
from tasks.settings import get_settings

#: With only a date, "now" is this local time on it (the start of the office day).
DEFAULT_TIME_OF_DAY = time(9, 0)


def local_tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


class DateWindowError(InvalidInput):
    """`today`/`now` outside the sane window (2000-01-01 to 2100-12-31): refused before anything is written."""


def resolve_now(now: datetime | None = None, today: date | None = None) -> tuple[date, datetime]:
    """(today, now) in the service's time zone. `now` wins; a naive `now` is read as local time;
    `today` alone means 09:00 local on that day; neither means the real now.
    Raises `DateWindowError` for a given `today`/`now` outside the sane window."""
    tz = local_tz()
    for name, value in (("now", now), ("today", today)):
        problem = date_problem(value)
        if problem and value is not None:
            raise DateWindowError(f"{name} {value.isoformat()} {problem}")
    if now is not None:
        now = as_local(now, tz)
        return now.astimezone(tz).date(), now
    if today is not None:
        return today, datetime.combine(today, DEFAULT_TIME_OF_DAY, tzinfo=tz)
    moment = datetime.now(tz)
    return moment.date(), moment
