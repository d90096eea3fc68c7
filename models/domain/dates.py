"""THE date and time reader for every input: command options, inbox files (referrals, claims,
payments) and the admin forms. Pure: no clock, no settings (the time zone is passed in).

Two kinds of input, one set of rules:

- **Typed at a command** (`--on`, `--today`, `--start` …): ISO-8601 only — `YYYY-MM-DD` for a date,
  `2026-11-28T09:30` with or without an offset for a date-time. `read_date_option` and
  `read_datetime_option` raise `FieldError` naming the option ("--on '01/02/2026' is not a date
  (use YYYY-MM-DD)"), which the CLI shows as one line, exit 2.
- **Read from a file** (a spreadsheet, a web form's JSON, a finance system's CSV): `parse_date`
  and `parse_moment` also take the UK day-first form `DD/MM/YYYY` (never month-first) and a cell
  that already is a date; they return None when the value is not one, and the caller words the
  problem for its report (`require_date` raises instead).

Everywhere: a date-time without an offset is the service's local time (`as_local`), and a date
must fall in the sane window (`models.domain.fields.date_problem`, 2000-01-01 to 2100-12-31).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo

from models.domain.fields import FieldError, date_problem
from models.errors import InvalidInput

#: A day-first UK date, optionally followed by a time of day (ignored by `parse_date`).
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
#: An ISO date followed by a time of day (a spreadsheet's "2026-11-20 00:00"): the date is read.
_ISO_DATE_AND_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{1,2}:\d{2}")
_UK_MOMENT = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def as_local(moment: datetime, tz: tzinfo) -> datetime:
    """`moment` with `tz` when it has no offset (a naive time is local time); else unchanged."""
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def parse_date(value: object) -> date | None:
    """A date from a file: ISO `YYYY-MM-DD`, UK `DD/MM/YYYY` (either may be followed by a time of
    day, which is ignored), or a spreadsheet date cell; None if `value` is not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = _text(value)
    try:
        uk = _UK_DATE.match(raw)
        if uk:
            day, month, year = (int(g) for g in uk.groups())
            return date(year, month, day)
        with_time = _ISO_DATE_AND_TIME.match(raw)
        if with_time:
            raw = with_time.group(1)
        return date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None


def require_date(value: object) -> date:
    """`parse_date(value)`, or `InvalidInput` saying why not ("is missing", "… is not a date")."""
    day = parse_date(value)
    if day is not None:
        return day
    raw = _text(value)
    if not raw:
        raise InvalidInput("is missing")
    raise InvalidInput(f"{raw!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def parse_moment(value: object, tz: tzinfo) -> datetime | None:
    """An aware datetime from a file: ISO-8601 (`Z` allowed) or UK `DD/MM/YYYY HH:MM[:SS]`; a bare
    date is midnight; a missing offset is local time (`tz`). None if `value` is not one."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0, 0))
    else:
        raw = _text(value)
        if not raw:
            return None
        uk = _UK_MOMENT.match(raw)  # a spreadsheet's "20/11/2026 14:03" (local time)
        try:
            if uk:
                day_, month, year, hour, minute, second = (int(g or 0) for g in uk.groups())
                moment = datetime(year, month, day_, hour, minute, second)
            else:
                moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            day = parse_date(raw)
            if day is None:
                return None
            moment = datetime.combine(day, time(0, 0))
    return as_local(moment, tz)


def read_date_option(value: str, name: str) -> date:
    """A date typed at a command (ISO `YYYY-MM-DD`) inside the sane window; `FieldError` naming
    the option otherwise."""
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise FieldError(name, f"{value!r} is not a date (use YYYY-MM-DD)") from None
    _in_window(parsed, name)
    return parsed


def read_datetime_option(value: str, name: str, tz: tzinfo) -> datetime:
    """A date-time typed at a command (ISO-8601; without an offset it is local time in `tz`)
    inside the sane window; `FieldError` naming the option otherwise."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise FieldError(name, f"{value!r} is not a date-time (use ISO-8601, e.g. 2026-11-28T09:30+00:00)") from None
    _in_window(parsed, name)
    return as_local(parsed, tz)


def _in_window(value: date | datetime, name: str) -> None:
    problem = date_problem(value)
    if problem:
        raise FieldError(name, f"{value.isoformat()} {problem}")
