"""The values of a referral form read as Python values: dates (ISO, UK and spreadsheet dates),
moments with or without an offset, yes/no, sections, ages (`models.domain.referrals`)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo

from models.domain.vocabulary import SECTIONS

_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_UK_MOMENT = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


def as_text(value: object) -> str:
    """A value as trimmed text (None is ""; a spreadsheet's 48213.0 is "48213")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_date(value: object) -> date | None:
    """A date from ISO `YYYY-MM-DD`, UK `DD/MM/YYYY`, or a spreadsheet date; None if not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = as_text(value)
    match = _UK_DATE.match(raw)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(raw[:10]) if len(raw) == 10 else None
    except ValueError:
        return None


def parse_moment(value: object, tz: tzinfo) -> datetime | None:
    """An aware datetime from ISO-8601 or UK `DD/MM/YYYY HH:MM[:SS]` (a missing offset or a bare
    date is read as local time)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0, 0))
    else:
        raw = as_text(value)
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
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def local_day(moment: datetime, tz: tzinfo) -> date | None:
    """The local date of `moment`, or None when it cannot be one (a year 1 or 9999 with an offset)."""
    try:
        return moment.astimezone(tz).date()
    except (OverflowError, ValueError):
        return None


def parse_bool(value: object) -> bool | None:
    """True/False from yes/no, true/false, y/n, 1/0 (blank is False); None when unrecognised."""
    if isinstance(value, bool):
        return value
    raw = as_text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    return None


def parse_sections(value: object) -> tuple[list[str], list[str]]:
    """(sections, unknown items) from a list or a `B;F;I` string (commas and spaces allowed)."""
    items = value if isinstance(value, (list, tuple)) else re.split(r"[;,\s]+", as_text(value))
    found: list[str] = []
    unknown: list[str] = []
    for item in (as_text(i).upper() for i in items):
        if not item:
            continue
        item = item.removeprefix("SECTION").strip()
        if not item:
            continue
        (found if item in SECTIONS else unknown).append(item)
    return sorted(set(found)), unknown


def age_on(born: date, on: date) -> int:
    """Whole years of age on `on`."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
