"""Builds the working-day calendar: England & Wales bank holidays plus proclaimed extras.

Sources: the `holidays` package (country GB, subdivision ENG — without the subdivision Easter
Monday and the summer bank holiday are missing), the extra-holidays file shipped with the
project, and the admin-editable `$DRS_HOME/extra-holidays.csv`.

The admin's file never stops the service. One line per holiday, `date,name` (the header line
`date,name` is optional; the README's own example `2027-06-07,Proclaimed bank holiday` is data);
dates are `YYYY-MM-DD` or `DD/MM/YYYY`; blank lines and `#` comments are ignored. When a line
is still wrong, the calendar keeps the last good version of the file (a copy kept in
`$DRS_HOME/.extra-holidays.last-good.csv`, or none) and `admin_problem()` names the file and
line for the team (`tasks.deadlines.admin_files` emails it once a day per content).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from models.domain.calendar import WorkingCalendar, parse_extra_holidays
from models.domain.dates import parse_date
from tasks.settings import get_settings

log = logging.getLogger(__name__)
YEARS = range(2014, 2041)
LAST_GOOD = ".extra-holidays.last-good.csv"
FILE_NAME = "extra-holidays.csv"
MAX_BYTES = 256 * 1024
PACKAGE_CACHE = ".holidays-package.json"
#: The same record, made for the `holidays` version installed with the project (models/domain/data).
SHIPPED_CACHE = "data/holidays-package.json"


def _parse_day(value: str) -> date | None:
    """A day of the admin's file: ISO or UK day-first, as every file is read (`models.domain.dates`)."""
    return parse_date(value.strip())


@lru_cache(maxsize=16)
def parse_admin_holidays(text: str) -> tuple[tuple[date, ...], tuple[tuple[int, str], ...]]:
    """(dates, problems as (line number, what is wrong)) for the admin's file; never raises."""
    dates: list[date] = []
    problems: list[tuple[int, str]] = []
    seen_data = False
    for number, line in enumerate(text.replace("\ufeff", "").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        delimiter = max((",", ";", "\t"), key=stripped.count)
        try:
            cells = next(csv.reader([stripped], delimiter=delimiter))
        except csv.Error:
            cells = [stripped]
        first = (cells[0] if cells else "").strip()
        if not seen_data and first.lower() == "date":
            seen_data = True  # the optional header line
            continue
        seen_data = True
        day = _parse_day(first)
        if day is None:
            problems.append(
                (number, f"{first[:40]!r} is not a date (use YYYY-MM-DD, e.g. 2027-06-07,Proclaimed bank holiday)")
            )
        else:
            dates.append(day)
    return tuple(dates), tuple(problems)


def _read_admin(path: Path) -> tuple[str | None, str | None]:
    """(the admin file's text or None when absent, a problem reading it)."""
    try:
        if not path.exists():
            return None, None
        if not path.is_file():  # a folder or a pipe: never block on it
            return None, f"{FILE_NAME}: not a plain file"
        if path.stat().st_size > MAX_BYTES:
            return None, f"{FILE_NAME}: the file is larger than {MAX_BYTES // 1024} KB"
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"{FILE_NAME}: cannot be read ({exc.strerror or type(exc).__name__})"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, f"{FILE_NAME}: the file is not UTF-8 text"


_saved: dict[Path, str] = {}


def _keep_last_good(home: Path, text: str) -> None:
    target = home / LAST_GOOD
    if _saved.get(target) == text:
        return
    try:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
        _saved[target] = text
    except OSError:  # a read-only home: the calendar still works, only the fallback copy is missing
        pass


def _last_good(home: Path) -> str:
    try:
        text = (home / LAST_GOOD).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    return text if not parse_admin_holidays(text)[1] else ""


def admin_holidays() -> tuple[str, str | None]:
    """(the admin text in force — the file, or its last good version —, the problem if any)."""
    settings = get_settings()
    path = settings.extra_holidays_file
    text, problem = _read_admin(path)
    if text is None and problem is None:
        return "", None
    if text is not None:
        problems = parse_admin_holidays(text)[1]
        if not problems:
            _keep_last_good(settings.home, text)
            return text, None
        lines = ", ".join(str(n) for n, _ in problems[:5])
        first_line, what = problems[0]
        problem = f"{path} line {first_line}: {what}" + (
            f" (lines with problems: {lines}{'…' if len(problems) > 5 else ''})" if len(problems) > 1 else ""
        )
    return _last_good(settings.home), problem


def admin_problem() -> tuple[str, str] | None:
    """(message, digest of the file's content) when the admin's file is wrong now, else None."""
    text, problem = admin_holidays()
    if problem is None:
        return None
    path = get_settings().extra_holidays_file
    try:
        content = path.read_bytes()[:MAX_BYTES] if path.is_file() else problem.encode()
    except OSError:
        content = problem.encode()
    return problem, hashlib.sha256(content).hexdigest()[:12]


def _extra_texts(admin_file: Path | None = None) -> tuple[str, ...]:
    shipped = resources.files("models.domain").joinpath("data/extra-holidays.csv").read_text()
    admin, problem = admin_holidays()
    if problem and problem not in _warned:
        _warned.add(problem)
        log.warning("%s; the last good version of the file is used", problem)
    return (shipped, admin)


_warned: set[str] = set()


@lru_cache(maxsize=4)
def _calendar(texts: tuple[str, ...]) -> WorkingCalendar:
    shipped, *admin = texts
    days = set(package_holidays(get_settings().home))
    days.update(parse_extra_holidays(shipped))
    for text in admin:
        days.update(parse_admin_holidays(text)[0])
    return WorkingCalendar(days)


def _package_key(version: str) -> str:
    """What the `holidays` package's days depend on: its version, the country and the years."""
    return f"holidays {version} GB-ENG {YEARS.start}-{YEARS.stop - 1}"


def _digest(days: list[str]) -> str:
    return hashlib.sha256(",".join(days).encode()).hexdigest()


def _checked_days(text: str, key: str) -> frozenset[date] | None:
    """The days of a saved record (`text`) when it is for `key` and checks out, else None."""
    saved = json.loads(text)
    days = saved["days"]
    if saved["key"] != key or not isinstance(days, list) or saved["digest"] != _digest(days):
        return None
    return frozenset(date.fromisoformat(day) for day in days)


def _cached_days(home: Path) -> frozenset[date] | None:
    """The package's days as an earlier run of this same `holidays` version saved them, or None
    (no file, another version, a file that does not check out: never a stale or damaged set).
    A home with no saved file yet (a new install, a new `DRS_HOME`) gets the copy shipped with the
    project (`SHIPPED_CACHE`, made from the package by the same code) when it is for the installed
    version — saved in the home as if built there."""
    try:
        from importlib.metadata import version

        key = _package_key(version("holidays"))
        path = home / PACKAGE_CACHE
        if path.exists():
            return _checked_days(path.read_text(encoding="utf-8"), key)
        shipped = resources.files("models.domain").joinpath(SHIPPED_CACHE).read_text(encoding="utf-8")
        days = _checked_days(shipped, key)
        if days is not None:
            _save(home, shipped)
        return days
    except (OSError, ValueError, KeyError, TypeError, ImportError, AttributeError):
        return None


def _save(home: Path, text: str) -> None:
    """Write the saved record whole (tmp + rename); a read-only or missing home: not saved."""
    try:
        target = home / PACKAGE_CACHE
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError:  # the next run builds it again
        pass


@lru_cache(maxsize=4)
def package_holidays(home: Path) -> frozenset[date]:
    """England & Wales bank holidays from the `holidays` package (GB, ENG) for `YEARS`.

    Importing `holidays` and building the set costs a run ~0.5-0.9 s (issue 14: idle runs), so the
    set is saved in `$DRS_HOME/.holidays-package.json` under the package's version and read back by
    later runs of the same version (a new version, or a file that does not check out, builds it
    again). The admin's and the shipped files are read every time, as before."""
    cached = _cached_days(home)
    if cached is not None:
        return cached
    import holidays

    built = frozenset(holidays.country_holidays("GB", subdiv="ENG", years=YEARS).keys())
    _save(home, json.dumps(package_record(built, holidays.__version__)))
    return built


def package_record(days: frozenset[date], version: str) -> dict:
    """The saved record of the package's `days` for `holidays` `version` (key, days, digest)."""
    listed = sorted(day.isoformat() for day in days)
    return {"key": _package_key(version), "days": listed, "digest": _digest(listed)}


def working_calendar() -> WorkingCalendar:
    """The calendar in force now (re-read when the admin's file changes; never fails for it)."""
    return _calendar(_extra_texts())


def holidays_version() -> str:
    """A digest of the holiday set: stored with the clocks so a change triggers recomputation."""
    days = sorted(working_calendar().holidays)
    return hashlib.sha256(",".join(d.isoformat() for d in days).encode()).hexdigest()[:16]
