"""Pure meeting rules: booking validation, notice, quiet hours and the reminder schedule (DST included)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.domain.calendar import WorkingCalendar
from models.domain.quiet_hours import family_not_before, quiet_adjust
from models.domain.session_reminders import (
    AttendeeSnapshot,
    ReminderPolicy,
    SessionSnapshot,
    parse_offset,
    reminder_key,
    reminder_time,
    reminders_due,
)
from models.domain.sessions import (
    Booking,
    BookingError,
    check_booking,
    default_end,
    inside_notice,
    notice_by,
    venue_key,
)

LONDON = ZoneInfo("Europe/London")
UTC = UTC
# England and Wales bank holidays around the dates used here (statutory-rules.md §6 list).
CAL = WorkingCalendar([date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1), date(2026, 8, 31)])


def local(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


def utc(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


# --- booking ---------------------------------------------------------------------------------
NOW = local(2026, 10, 5, 9)
BOOKED = Booking(
    mediator_id=1, start=local(2026, 10, 26, 10), end=local(2026, 10, 26, 12), venue="Hall, 1 Street", session_id=7
)


def test_a_free_slot_is_accepted():
    check_booking(Booking(2, local(2026, 10, 26, 10), local(2026, 10, 26, 12), "Library"), [BOOKED], NOW, LONDON)


def test_default_end_is_two_hours_later():
    assert default_end(local(2026, 10, 26, 10)) == local(2026, 10, 26, 12)


@pytest.mark.parametrize(
    "start,end,message",
    [
        (local(2026, 10, 26, 12), local(2026, 10, 26, 10), "end must be after the start"),
        (local(2026, 10, 26, 10), local(2026, 10, 26, 10), "end must be after the start"),
        (local(2026, 10, 5, 8, 59), local(2026, 10, 5, 11), "is in the past"),
    ],
)
def test_impossible_times_are_refused(start, end, message):
    with pytest.raises(BookingError, match=message):
        check_booking(Booking(2, start, end, "Library"), [], NOW, LONDON)


def test_the_same_mediator_cannot_be_in_two_meetings_at_once():
    with pytest.raises(BookingError, match=r"mediator is already booked then \(session 7"):
        check_booking(Booking(1, local(2026, 10, 26, 11), local(2026, 10, 26, 13), "Library"), [BOOKED], NOW, LONDON)


def test_the_same_venue_is_recognised_whatever_the_spelling():
    assert venue_key("Hall, 1  Street") == venue_key(" hall 1 street.") == "hall 1 street"
    with pytest.raises(BookingError, match="venue is already booked then"):
        check_booking(
            Booking(2, local(2026, 10, 26, 9), local(2026, 10, 26, 10, 30), "HALL 1 STREET"), [BOOKED], NOW, LONDON
        )


def test_back_to_back_meetings_and_online_meetings_do_not_clash():
    check_booking(Booking(1, local(2026, 10, 26, 12), local(2026, 10, 26, 14), "Hall, 1 Street"), [BOOKED], NOW, LONDON)
    online = Booking(3, local(2026, 10, 26, 10), local(2026, 10, 26, 12), None, session_id=8)
    check_booking(Booking(2, local(2026, 10, 26, 10), local(2026, 10, 26, 12), None), [online], NOW, LONDON)


def test_a_rescheduled_meeting_does_not_clash_with_itself():
    moved = Booking(1, local(2026, 10, 26, 11), local(2026, 10, 26, 13), "Hall, 1 Street", session_id=7)
    check_booking(moved, [BOOKED], NOW, LONDON)


# --- notice (reg 37, VERIFIED wording) ------------------------------------------------------------
def test_notice_is_five_working_days_before_the_meeting_day():
    assert notice_by(date(2026, 10, 26), CAL) == date(2026, 10, 19)
    assert not inside_notice(date(2026, 10, 26), date(2026, 10, 19), CAL)
    assert inside_notice(date(2026, 10, 26), date(2026, 10, 20), CAL)


def test_notice_skips_christmas_bank_holidays():
    # Tue 29 Dec 2026: 28 (substitute), 25 Dec and the weekend are not counted.
    assert notice_by(date(2026, 12, 29), CAL) == date(2026, 12, 18)


# --- quiet hours 20:00-08:00 Europe/London -------------------------------------------------------
@pytest.mark.parametrize(
    "moment,expected",
    [
        (local(2026, 11, 30, 19, 59), local(2026, 11, 30, 19, 59)),
        (local(2026, 11, 30, 8, 0), local(2026, 11, 30, 8, 0)),
        (local(2026, 11, 30, 20, 0), local(2026, 12, 1, 8, 0)),
        (local(2026, 11, 30, 7, 59), local(2026, 11, 30, 8, 0)),
        # spring forward, Sun 29 Mar 2026: 08:00 BST is 07:00 UTC, from the evening before and from inside the gap
        (local(2026, 3, 28, 21, 0), utc(2026, 3, 29, 7)),
        (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 7)),
        # fall back, Sun 25 Oct 2026: 08:00 GMT is 08:00 UTC, from either 01:30 (BST and GMT)
        (local(2026, 10, 24, 22, 0), utc(2026, 10, 25, 8)),
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 8)),
        (utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 8)),
        # the Saturday before each change: 08:00 GMT and 08:00 BST
        (utc(2026, 3, 28, 6, 0), utc(2026, 3, 28, 8)),
        (utc(2026, 10, 24, 6, 0), utc(2026, 10, 24, 7)),
    ],
)
def test_quiet_hours_move_a_message_to_eight_in_the_morning(moment, expected):
    assert quiet_adjust(moment, LONDON) == expected.astimezone(UTC)


# --- reminder times --------------------------------------------------------------------------------
def test_seven_days_before_keeps_the_local_time_across_the_october_change():
    # Mon 26 Oct 2026 10:00 GMT; a week earlier is 10:00 BST = 09:00 UTC.
    assert reminder_time(local(2026, 10, 26, 10), parse_offset("7d"), CAL, LONDON) == utc(2026, 10, 19, 9)


def test_seven_days_before_keeps_the_local_time_across_the_march_change():
    assert reminder_time(local(2026, 4, 1, 14), parse_offset("7d"), CAL, LONDON) == utc(2026, 3, 25, 14)


def test_one_working_day_before_a_monday_is_the_friday():
    assert reminder_time(local(2026, 11, 30, 10), parse_offset("1wd"), CAL, LONDON) == local(
        2026, 11, 27, 10
    ).astimezone(UTC)


def test_one_working_day_before_skips_bank_holidays():
    assert reminder_time(local(2026, 12, 29, 10), parse_offset("1wd"), CAL, LONDON) == utc(2026, 12, 24, 10)


def test_hours_before_are_elapsed_hours():
    assert reminder_time(utc(2026, 10, 25, 12), parse_offset("3h"), CAL, LONDON) == utc(2026, 10, 25, 9)


@pytest.mark.parametrize("text", ["", "0d", "7", "seven days", "2w", "-1d"])
def test_bad_offsets_are_refused(text):
    with pytest.raises(ValueError):
        parse_offset(text)


def test_the_policy_is_configurable_and_refuses_duplicates():
    assert [o.kind for o in ReminderPolicy.from_texts(["2WD", "3h"]).offsets] == ["2wd", "3h"]
    assert [o.kind for o in ReminderPolicy.from_texts(None).offsets] == ["7d", "1wd"]
    with pytest.raises(ValueError):
        ReminderPolicy.from_texts(["7d", "7D"])


# --- which reminders are due -------------------------------------------------------------------------
PEOPLE = (AttendeeSnapshot(11, "family"), AttendeeSnapshot(12, "mediator"), AttendeeSnapshot(13, "la"))


def meeting(**kw) -> SessionSnapshot:
    values = dict(
        session_id=5,
        sequence=0,
        start=local(2026, 11, 30, 10),
        end=local(2026, 11, 30, 12),
        version_at=local(2026, 11, 2, 11),
        status="scheduled",
        attendees=PEOPLE,
    )
    values.update(kw)
    return SessionSnapshot(**values)


def due_at(now, *sessions, policy=ReminderPolicy()):  # noqa: B008 (frozen)
    return [
        (d.attendee_id, d.kind, d.sequence) for d in reminders_due(sessions or [meeting()], now, CAL, LONDON, policy)
    ]


def test_nothing_is_due_before_the_first_reminder():
    assert due_at(local(2026, 11, 23, 9, 59)) == []


def test_the_seven_day_reminder_goes_to_every_attendee():
    assert due_at(local(2026, 11, 23, 10)) == [(11, "7d", 0), (12, "7d", 0), (13, "7d", 0)]


def test_the_one_working_day_reminder_replaces_an_unsent_seven_day_one():
    due = reminders_due([meeting()], local(2026, 11, 27, 10), CAL, LONDON)
    assert [(d.attendee_id, d.kind) for d in due] == [(11, "1wd"), (12, "1wd"), (13, "1wd")]
    assert all(d.superseded == ("7d",) for d in due)


def test_a_reminder_whose_time_passed_before_booking_is_never_sent():
    late = meeting(version_at=local(2026, 11, 25, 15))
    assert due_at(local(2026, 11, 25, 16), late) == []
    assert due_at(local(2026, 11, 27, 10), late) == [(11, "1wd", 0), (12, "1wd", 0), (13, "1wd", 0)]


def test_a_rescheduled_version_has_its_own_reminders():
    moved = meeting(
        sequence=1, start=local(2026, 12, 7, 14), end=local(2026, 12, 7, 16), version_at=local(2026, 11, 24, 9)
    )
    assert due_at(local(2026, 11, 30, 14), moved) == [(11, "7d", 1), (12, "7d", 1), (13, "7d", 1)]
    assert reminder_key(5, 11, "7d", 1) == "reminder:5:11:7d:1"
    assert reminders_due([moved], local(2026, 11, 30, 14), CAL, LONDON)[0].key == "reminder:5:11:7d:1"


def test_cancelled_and_held_meetings_get_nothing():
    assert due_at(local(2026, 11, 27, 10), meeting(status="cancelled")) == []
    assert due_at(local(2026, 11, 30, 13), meeting(status="held", outcome_recorded=True)) == []


def test_no_reminder_once_the_meeting_has_started():
    assert due_at(local(2026, 11, 30, 10, 30)) == []


def test_the_mediator_is_nudged_after_the_end_when_no_outcome_is_recorded():
    assert due_at(local(2026, 11, 30, 12, 29)) == []
    assert due_at(local(2026, 11, 30, 12, 30)) == [(12, "outcome", 0)]
    assert due_at(local(2026, 11, 30, 13), meeting(outcome_recorded=True)) == []
    assert due_at(local(2026, 12, 2, 13)) == []  # long past: no nudge about old meetings


def test_an_evening_meeting_nudge_waits_for_the_morning():
    late = meeting(start=local(2026, 11, 30, 18), end=local(2026, 11, 30, 20))
    assert due_at(local(2026, 11, 30, 20, 45), late) == []
    assert due_at(local(2026, 12, 1, 8), late) == [(12, "outcome", 0)]


def test_a_reminder_due_overnight_goes_at_eight():
    evening = meeting(start=local(2026, 11, 30, 21), end=local(2026, 11, 30, 22, 30))
    only = ReminderPolicy.from_texts(["1wd"])
    assert due_at(local(2026, 11, 27, 21, 30), evening, policy=only) == []  # due 21:00 Friday: quiet
    assert due_at(local(2026, 11, 28, 7, 59), evening, policy=only) == []
    assert due_at(local(2026, 11, 28, 8, 0), evening, policy=only) == [(11, "1wd", 0), (12, "1wd", 0), (13, "1wd", 0)]


def test_queued_inside_quiet_hours_a_reminder_is_held_until_eight():
    due = reminders_due([meeting()], local(2026, 11, 23, 22, 15), CAL, LONDON)
    assert {d.not_before for d in due} == {local(2026, 11, 24, 8).astimezone(UTC)}
    assert {d.not_before for d in reminders_due([meeting()], local(2026, 11, 23, 10), CAL, LONDON)} == {None}


def test_on_the_october_dst_sunday_the_morning_reminder_goes_at_eight_gmt():
    # A meeting at 07:00 on Sun 1 Nov 2026: its 7-day reminder falls at 07:00 GMT on Sun 25 Oct (quiet).
    early = meeting(start=local(2026, 11, 1, 7), end=local(2026, 11, 1, 9), version_at=local(2026, 10, 1, 9))
    assert due_at(utc(2026, 10, 25, 7, 59), early) == []
    assert due_at(utc(2026, 10, 25, 8, 0), early) == [(11, "7d", 0), (12, "7d", 0), (13, "7d", 0)]


def test_on_the_march_dst_sunday_the_morning_reminder_goes_at_eight_bst():
    early = meeting(start=local(2026, 4, 5, 7), end=local(2026, 4, 5, 9), version_at=local(2026, 3, 1, 9))
    assert due_at(utc(2026, 3, 29, 6, 59), early) == []
    assert due_at(utc(2026, 3, 29, 7, 0), early) == [(11, "7d", 0), (12, "7d", 0), (13, "7d", 0)]


RULE_MODULES = ("models.domain.sessions", "models.domain.session_reminders", "models.domain.quiet_hours")


@pytest.mark.parametrize("name", RULE_MODULES)
def test_the_rules_never_read_the_clock(name):
    import importlib

    module = importlib.import_module(name)
    source = open(module.__file__).read()
    assert "datetime.now" not in source and "date.today" not in source and "time.time" not in source


def test_the_rule_constants():
    import models.domain.quiet_hours as quiet
    import models.domain.sessions as module

    assert time(20) == quiet.QUIET_START and time(8) == quiet.QUIET_END
    assert timedelta(hours=2) == module.DEFAULT_DURATION


@pytest.mark.parametrize("name", RULE_MODULES)
def test_the_rules_import_only_the_standard_library_and_the_domain(name):
    import ast
    import importlib
    import sys

    module = importlib.import_module(name)
    tree = ast.parse(open(module.__file__).read())
    roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    roots |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    froms = {
        n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("models")
    }
    assert all(m.startswith("models.domain") for m in froms)
    assert roots - {"models", "__future__"} <= set(sys.stdlib_module_names)


@pytest.mark.parametrize("hour", range(24))
def test_one_quiet_hours_rule_for_every_family_email(hour):
    """Session emails, acknowledgements and the deadline alerts to families ask the same rule."""
    from models.domain.alerts import FAMILY, not_before_for

    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 30)):
        moment = datetime(day.year, day.month, day.day, hour, 30, tzinfo=LONDON)
        held = quiet_adjust(moment, LONDON)
        expected = None if held == moment.astimezone(UTC) else held
        assert family_not_before(moment, LONDON) == expected
        assert not_before_for(FAMILY, moment, CAL) == expected
