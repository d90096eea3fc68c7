"""The rules for text, email addresses, meeting links and dates, defined once (issue #12 §4):
models/domain/fields.py and the referral validator that uses them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from models.domain.fields import (
    EARLIEST,
    LATEST,
    NAME_MAX,
    NOTE_MAX,
    FieldError,
    clean_text,
    date_problem,
    email_problem,
    text_problem,
    url_problem,
)
from models.domain.referrals import flatten, validate_referral
from tests.intake_samples import referral

LONDON = ZoneInfo("Europe/London")


def check(**changes):
    record = referral(**{k: v for k, v in changes.items() if k != "form_id"})
    if "form_id" in changes:
        record["form_id"] = changes["form_id"]
    return validate_referral(
        flatten(record), today=date(2026, 11, 23), tz=LONDON, la_known=lambda text: text.strip().lower() in {"salford"}
    )


@pytest.mark.parametrize(
    "value, single, reason",
    [
        ({"first": "Ann"}, True, "is a list or an object, not text"),
        (["Ann", "Bo"], True, "is a list or an object, not text"),
        (b"Ann", True, "is not text"),
        ("Ann\x00", False, "contains a NUL character"),
        ("Ann\r\nBo", True, "contains a line break or tab (one line only)"),
        ("Ann\u2028Bo", True, "contains a line break or tab (one line only)"),
        ("Ann\x1b[31m!", False, "contains a control character"),
        ("An\x85n", True, "contains a line break or tab (one line only)"),
        ("\ud800", True, "contains an invalid character"),
        ("x" * (NAME_MAX + 1), True, f"is too long (at most {NAME_MAX} characters)"),
    ],
)
def test_hostile_text_is_refused_with_a_value_free_reason(value, single, reason):
    assert text_problem(value, single_line=single, limit=NAME_MAX if single else NOTE_MAX) == reason


@pytest.mark.parametrize(
    "value",
    [
        "Zoë O'Brien-Łukasz",
        "\u200fمحمد\u200f",
        "王小明",
        "Ἀλέξανδρος",
        "Ann 🌈",
        "x" * NAME_MAX,
        None,
        "",
        42,
    ],
)
def test_ordinary_names_in_any_script_are_text(value):
    assert text_problem(value) is None


def test_notes_may_span_lines_up_to_the_limit():
    assert text_problem("line one\r\nline two\tend", limit=NOTE_MAX, single_line=False) is None
    assert text_problem("x" * NOTE_MAX, limit=NOTE_MAX, single_line=False) is None
    assert (
        text_problem("x" * (NOTE_MAX + 1), limit=NOTE_MAX, single_line=False)
        == "is too long (at most 10000 characters)"
    )
    assert clean_text("  keep me  ", "note") == "keep me"
    with pytest.raises(FieldError, match="^note contains a NUL character$"):
        clean_text("a\x00b", "note")


@pytest.mark.parametrize("address", ["parent@families.example", "Ann.O'Brien+drs@salford.gov.uk", "zoë@exämple.org"])
def test_valid_addresses(address):
    assert email_problem(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "parent@families",
        "parent@@families.example",
        "par ent@families.example",
        "parent@families..example",
        "parent@localhost",
        "parent@site.invalid",
        ".parent@families.example",
        "parent@families.example\r\nBcc: x@y.org",
        "parent@-families.example",
        '"quoted"@families.example',
        "x" * 250 + "@a.org",
        "parent@families.example\x00",
    ],
)
def test_invalid_addresses_are_refused_without_a_network_lookup(address):
    assert email_problem(address) is not None


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://meet.example.org/abc?pwd=1", True),
        ("https://teams.microsoft.com/l/meetup-join/19%3a", True),
        ("http://meet.example.org/abc", False),
        ("javascript:alert(1)", False),
        ("ftp://meet.example.org", False),
        ("https://", False),
        ("https://localhost/x", False),
        ("https://bad_host.example.org/", False),
        ("https://user:pw@meet.example.org/", False),
        ("https://meet.example.org:99999/", False),
        ("https://meet.example.org/a b", False),
        ("https://meet.example.org/\r\nx", False),
        ("//meet.example.org/abc", False),
    ],
)
def test_meeting_links_are_https_with_a_valid_host(url, ok):
    assert (url_problem(url) is None) is ok


def test_the_date_window():
    assert (EARLIEST, LATEST) == (date(2000, 1, 1), date(2100, 12, 31))
    assert date_problem(date(2000, 1, 1)) is None and date_problem(date(2100, 12, 31)) is None
    assert date_problem(date(1999, 12, 31)) == "is outside 2000-01-01 to 2100-12-31"
    assert date_problem(datetime(2101, 1, 1, tzinfo=UTC)) is not None


@pytest.mark.parametrize(
    "changes, field, reason",
    [
        ({"child_name": {"first": "Sam", "last": "Child"}}, "child_name", "is a list or an object, not text"),
        ({"requester_name": ["Ann", "Bo"]}, "requester_name", "is a list or an object, not text"),
        ({"requester_name": "Ann\r\nBcc: x"}, "requester_name", "contains a line break or tab (one line only)"),
        ({"notes": "fine\x00"}, "notes", "contains a NUL character"),
        ({"notes": "x" * (NOTE_MAX + 1)}, "notes", "is too long (at most 10000 characters)"),
        ({"child_name": "y" * (NAME_MAX + 1)}, "child_name", f"is too long (at most {NAME_MAX} characters)"),
        ({"form_id": {"$ne": 1}}, "form_id", "is a list or an object, not text"),
        ({"requester_email": "parent@families"}, "requester_email", "does not look like an email address"),
        (
            {"submitted_at": "1999-12-31T10:00:00Z", "decision_letter_sent_on": "2014-09-02"},
            "submitted_at",
            "is outside 2000-01-01 to 2100-12-31",
        ),
        ({"submitted_at": "9999-12-31T23:59:59-05:00"}, "submitted_at", "is not a date and time"),
        ({"local_authority": {"name": "Salford"}}, "local_authority", "is a list or an object, not text"),
    ],
)
def test_a_referral_field_that_is_not_acceptable_text_is_rejected_not_stringified(changes, field, reason):
    form, problems = check(**changes)
    assert form is None
    assert [(p.field, p.reason) for p in problems] == [(field, reason)]
    assert all("{" not in p.text and "\x00" not in p.text for p in problems)


def test_a_name_with_right_to_left_marks_and_a_multi_line_note_is_accepted():
    form, problems = check(child_name="\u200fسارة\u200f", notes="first line\nsecond line")
    assert problems == [] and form.child_name == "\u200fسارة\u200f" and form.notes == "first line\nsecond line"
