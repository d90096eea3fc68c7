"""Builds the working-day calendar: England & Wales bank holidays plus proclaimed extras.

Sources: the `holidays` package (country GB, subdivision ENG — without the subdivision Easter
Monday and the summer bank holiday are missing), the extra-holidays file shipped with the
project, and the admin-editable `$DRS_HOME/extra-holidays.csv` (`date,name`).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from models.domain.calendar import WorkingCalendar, parse_extra_holidays
from tasks.settings import get_settings

YEARS = range(2014, 2041)


def _extra_texts(admin_file: Path) -> tuple[str, ...]:
    shipped = resources.files("models.domain").joinpath("data/extra-holidays.csv").read_text()
    admin = admin_file.read_text() if admin_file.exists() else ""
    return (shipped, admin)


@lru_cache(maxsize=4)
def _calendar(texts: tuple[str, ...]) -> WorkingCalendar:
    import holidays

    days = set(holidays.country_holidays("GB", subdiv="ENG", years=YEARS).keys())
    for text in texts:
        days.update(parse_extra_holidays(text))
    return WorkingCalendar(days)


def working_calendar() -> WorkingCalendar:
    """The calendar in force now (re-read when the admin's file changes)."""
    return _calendar(_extra_texts(get_settings().extra_holidays_file))


def holidays_version() -> str:
    """A digest of the holiday set: stored with the clocks so a change triggers recomputation."""
    days = sorted(working_calendar().holidays)
    return hashlib.sha256(",".join(d.isoformat() for d in days).encode()).hexdigest()[:16]
