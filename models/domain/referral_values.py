"""The values of a referral form read as Python values: yes/no, sections, ages, local days
(`models.domain.referrals`; dates and moments are read by THE date reader, `models.domain.dates`)."""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

from models.domain.vocabulary import SECTIONS

_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


def as_text(value: object) -> str:
    """A value as trimmed text (None is ""; a spreadsheet's 48213.0 is "48213")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


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
