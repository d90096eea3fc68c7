"""The `holidays` package's days are saved in DRS_HOME and read back by later runs (issue 14:
idle runs no longer import `holidays`), and the saved set can never decide a date wrongly: a new
package version, a damaged or edited file builds it again, and the admin's file is read every time."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from tasks.deadlines import calendar_source
from tasks.deadlines.calendar_source import PACKAGE_CACHE, holidays_version, package_holidays, working_calendar

PROCLAIMED = date(2027, 6, 7)  # a Monday


def _fresh() -> None:
    """As a new process: no calendar in memory."""
    package_holidays.cache_clear()
    calendar_source._calendar.cache_clear()


def _expected() -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=calendar_source.YEARS).keys())


def test_a_later_run_reads_the_saved_days_without_importing_holidays(drs_env):
    _fresh()
    first, version = working_calendar().holidays, holidays_version()
    saved = json.loads((drs_env.home / PACKAGE_CACHE).read_text())
    assert set(saved["days"]) == {d.isoformat() for d in _expected()}
    code = (
        "import sys; from tasks.deadlines.calendar_source import working_calendar, holidays_version; "
        "print(len(working_calendar().holidays), holidays_version(), 'holidays' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert out == [str(len(first)), version, "False"]


def test_the_admin_file_is_read_every_time(drs_env):
    _fresh()
    assert working_calendar().is_working_day(PROCLAIMED)
    before = holidays_version()
    (drs_env.home / "extra-holidays.csv").write_text("2027-06-07,Proclaimed bank holiday\n")
    _fresh()
    assert (drs_env.home / PACKAGE_CACHE).exists()
    assert not working_calendar().is_working_day(PROCLAIMED)
    assert holidays_version() != before
    (drs_env.home / "extra-holidays.csv").write_text("")
    _fresh()
    assert working_calendar().is_working_day(PROCLAIMED) and holidays_version() == before


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r | {"key": r["key"].replace("holidays ", "holidays 0.0.1-")},  # another package version
        lambda r: r | {"days": [*r["days"], "2027-06-07"]},  # edited by hand: the digest no longer matches
        lambda r: r | {"days": r["days"][1:]},
        lambda r: r | {"days": "2027-06-07"},
        lambda r: {"key": r["key"]},
        lambda r: "not json",
    ],
)
def test_a_saved_set_that_does_not_check_out_is_built_again(drs_env, damage):
    _fresh()
    good = working_calendar().holidays
    path = drs_env.home / PACKAGE_CACHE
    record = json.loads(path.read_text())
    damaged = damage(record)
    path.write_text(damaged if isinstance(damaged, str) else json.dumps(damaged))
    _fresh()
    assert working_calendar().holidays == good
    assert working_calendar().is_working_day(PROCLAIMED)
    assert json.loads(path.read_text()) == record  # written again, whole


def test_an_unwritable_home_still_has_its_calendar(drs_env, monkeypatch):
    _fresh()

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(calendar_source.Path, "write_text", refuse)
    assert package_holidays(drs_env.home) == _expected()
    assert not (drs_env.home / PACKAGE_CACHE).exists()


def test_the_shipped_copy_is_the_package_days_for_its_version():
    """The copy shipped in models/domain/data is what the package gives, for the version it names
    (regenerate it with `package_record` when the installed `holidays` changes; until then it is
    simply not used, see the next test)."""
    from importlib import resources
    from importlib.metadata import version

    shipped = json.loads(resources.files("models.domain").joinpath(calendar_source.SHIPPED_CACHE).read_text())
    if shipped["key"] != calendar_source._package_key(version("holidays")):
        pytest.skip(f"the shipped copy is for another holidays version: {shipped['key']}")
    import holidays

    assert shipped == calendar_source.package_record(_expected(), holidays.__version__)


def test_a_new_home_gets_the_shipped_copy_only_for_its_version(drs_env, monkeypatch):
    _fresh()
    path = drs_env.home / PACKAGE_CACHE
    assert not path.exists()
    assert package_holidays(drs_env.home) == _expected()
    assert json.loads(path.read_text())["days"] == sorted(d.isoformat() for d in _expected())
    # another installed version: the shipped copy does not check out, the package is asked
    path.unlink()
    _fresh()
    monkeypatch.setattr(calendar_source, "_package_key", lambda v: f"holidays 0.0.1-{v} GB-ENG 2014-2040")
    assert calendar_source._cached_days(drs_env.home) is None
    assert not path.exists()


def test_a_new_home_does_not_import_holidays(drs_env):
    code = (
        "import sys; from tasks.deadlines.calendar_source import working_calendar, holidays_version; "
        "print(len(working_calendar().holidays), holidays_version(), 'holidays' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    _fresh()
    assert out == [str(len(working_calendar().holidays)), holidays_version(), "False"]
