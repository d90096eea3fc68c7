"""THE date reader (models/domain/dates.py): typed options are ISO only; files also take UK day-first."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from models.domain.dates import parse_date, parse_moment, read_date_option, read_datetime_option, require_date
from models.domain.fields import FieldError
from models.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20", date(2026, 11, 20)),
        ("20/11/2026", date(2026, 11, 20)),
        ("2/3/2015", date(2015, 3, 2)),
        ("20/11/2026 00:00", date(2026, 11, 20)),
        ("2026-11-20 10:00", date(2026, 11, 20)),
        (datetime(2026, 11, 20, 9, tzinfo=UTC), date(2026, 11, 20)),
        ("11/31/2026", None),
        ("2015-02-30", None),
        ("12th November", None),
        ("2026-11-20abc", None),
        ("", None),
    ],
)
def test_a_file_date(value, expected):
    assert parse_date(value) == expected


def test_require_date_says_why():
    with pytest.raises(InvalidInput, match="^is missing$"):
        require_date("  ")
    with pytest.raises(InvalidInput, match=r"^'31/02/2026' is not a date \(use YYYY-MM-DD or DD/MM/YYYY\)$"):
        require_date("31/02/2026")


def test_a_file_moment_without_offset_is_local():
    assert parse_moment("20/11/2026 14:03", LONDON) == datetime(2026, 11, 20, 14, 3, tzinfo=LONDON)
    assert parse_moment("2026-11-20T14:03Z", LONDON) == datetime(2026, 11, 20, 14, 3, tzinfo=UTC)
    assert parse_moment("yesterday", LONDON) is None


def test_a_typed_date_is_iso_only_and_in_the_window():
    assert read_date_option(" 2026-11-20 ", "--on") == date(2026, 11, 20)
    with pytest.raises(FieldError, match=r"^--on '01/02/2026' is not a date \(use YYYY-MM-DD\)$"):
        read_date_option("01/02/2026", "--on")
    with pytest.raises(FieldError, match="^--on 2999-01-01 is outside 2000-01-01 to 2100-12-31$"):
        read_date_option("2999-01-01", "--on")


def test_a_typed_datetime_without_offset_is_local():
    assert read_datetime_option("2026-11-28T09:30", "--start", LONDON) == datetime(2026, 11, 28, 9, 30, tzinfo=LONDON)
    with pytest.raises(FieldError, match="^--start 'soon' is not a date-time"):
        read_datetime_option("soon", "--start", LONDON)
