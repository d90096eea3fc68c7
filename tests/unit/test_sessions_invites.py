"""The .ics invitations, parsed back with `icalendar`: UID, SEQUENCE, METHOD, people and the
Europe/London VTIMEZONE with the right offsets either side of the clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tasks.sessions.emails import cancellation, invitation, outcome_nudge, reminder
from tasks.sessions.invites import Invitee, build_ics, ics_attachment
from tasks.sessions.meeting_view import Meeting

LONDON = ZoneInfo("Europe/London")
UTC = UTC
STAMP = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def meeting(start: datetime, sequence: int = 0) -> Meeting:
    return Meeting(
        uid="7c1d-uid@service.example.org",
        sequence=sequence,
        case_ref="DRS-2026-00042",
        start=start,
        end=start + timedelta(hours=2),
        venue="Community Hall, 1 Example Street",
        online_url=None,
        access_notes="Step-free entrance; parking at the rear",
        mediator_name="Mia Mediator",
        tz=LONDON,
    )


def ics(start: datetime, method: str = "REQUEST", sequence: int = 0) -> Calendar:
    raw = build_ics(
        meeting(start, sequence),
        Invitee("Pat Parent", "pat@families.example", "family"),
        organizer_email="mediation@service.example.org",
        organizer_name="SEND Mediation",
        tzid="Europe/London",
        now=STAMP,
        method=method,
    )
    return Calendar.from_ical(raw)


@pytest.mark.parametrize(
    "day,offset,zone",
    [
        (datetime(2026, 10, 23, 10, 0, tzinfo=LONDON), timedelta(hours=1), "BST"),  # Friday before the change
        (datetime(2026, 10, 26, 10, 0, tzinfo=LONDON), timedelta(0), "GMT"),  # Monday after 25 Oct
    ],
)
def test_the_invite_shows_local_time_with_the_right_utc_offset_across_the_october_change(day, offset, zone):
    cal = ics(day)
    event = cal.events[0]
    start = event.decoded("dtstart")
    assert event["dtstart"].params["TZID"] == "Europe/London"
    assert (start.hour, start.minute) == (10, 0)
    assert start.utcoffset() == offset
    assert start.astimezone(UTC) == day.astimezone(UTC)
    assert event.decoded("dtend") - start == timedelta(hours=2)
    assert "DTSTART;TZID=Europe/London:2026102" in cal.to_ical().decode()
    # the VTIMEZONE's observance in force at the meeting has the same offset and name
    tz = cal.walk("VTIMEZONE")[0]
    in_force = max(
        (s for s in tz.subcomponents if s.decoded("dtstart") <= start.replace(tzinfo=None)),
        key=lambda s: s.decoded("dtstart"),
    )
    assert in_force.decoded("tzoffsetto") == offset
    assert str(in_force["tzname"]) == zone


def test_the_vtimezone_observances_follow_rfc5545_and_agree_with_zoneinfo():
    tz = ics(datetime(2026, 10, 26, 10, tzinfo=LONDON)).walk("VTIMEZONE")[0]
    assert str(tz["tzid"]) == "Europe/London"
    changes = {
        (s.name, s.decoded("dtstart")): (s.decoded("tzoffsetfrom"), s.decoded("tzoffsetto")) for s in tz.subcomponents
    }
    # DTSTART is the local time before the change (RFC 5545 §3.6.5): 01:00 GMT in March, 02:00 BST in October
    assert changes[("DAYLIGHT", datetime(2026, 3, 29, 1, 0))] == (timedelta(0), timedelta(hours=1))
    assert changes[("STANDARD", datetime(2026, 10, 25, 2, 0))] == (timedelta(hours=1), timedelta(0))
    for (name, local_start), (before, after) in changes.items():
        if before == after:
            continue
        instant = (local_start - before).replace(tzinfo=UTC)
        assert (instant - timedelta(minutes=1)).astimezone(LONDON).utcoffset() == before
        assert instant.astimezone(LONDON).utcoffset() == after
        assert (name == "DAYLIGHT") == (after > before)


def test_a_request_names_the_service_as_organizer_and_only_the_recipient_as_attendee():
    cal = ics(datetime(2026, 11, 30, 10, tzinfo=LONDON), sequence=2)
    event = cal.events[0]
    assert str(cal["method"]) == "REQUEST"
    assert str(event["uid"]) == "7c1d-uid@service.example.org"
    assert int(event["sequence"]) == 2
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["organizer"]) == "mailto:mediation@service.example.org"
    attendees = event.get("attendee")
    assert not isinstance(attendees, list)
    assert str(attendees) == "mailto:pat@families.example"
    assert attendees.params["CN"] == "Pat Parent"
    assert "Community Hall" in str(event["location"])
    assert "Step-free" in str(event["description"])
    assert "Pat" not in str(event["summary"])  # the summary is the case reference only


def test_a_cancellation_is_method_cancel_with_status_cancelled():
    cal = ics(datetime(2026, 11, 30, 10, tzinfo=LONDON), method="CANCEL", sequence=1)
    assert str(cal["method"]) == "CANCEL"
    assert str(cal.events[0]["status"]) == "CANCELLED"
    assert int(cal.events[0]["sequence"]) == 1
    assert ics_attachment(b"x", "CANCEL").mime_type == "text/calendar; method=CANCEL"
    assert ics_attachment(b"x").mime_type == "text/calendar; method=REQUEST"


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError):
        ics(datetime(2026, 11, 30, 10, tzinfo=LONDON), method="PUBLISH")


def test_email_texts_show_local_time_and_keep_names_out_of_subjects():
    text = Meeting(
        "DRS-2026-00042",
        datetime(2026, 10, 26, 10, tzinfo=LONDON),
        datetime(2026, 10, 26, 12, tzinfo=LONDON),
        "Community Hall",
        None,
        None,
        "Mia Mediator",
        LONDON,
    )
    summer = Meeting(
        "DRS-2026-00042",
        datetime(2026, 10, 23, 10, tzinfo=LONDON),
        datetime(2026, 10, 23, 12, tzinfo=LONDON),
        None,
        "https://meet.example/abc",
        None,
        "Mia Mediator",
        LONDON,
    )
    assert text.when == "Monday 26 October 2026, 10:00 to 12:00 (UK time, GMT)"
    assert summer.when == "Friday 23 October 2026, 10:00 to 12:00 (UK time, BST)"
    made = [
        invitation(text, name="Pat Parent", role="family"),
        invitation(text, name="Pat Parent", role="family", update=True),
        cancellation(text, name="Pat Parent"),
        reminder(text, name="Lee", role="la", authority_to_settle=True),
        outcome_nudge(text, name="Mia Mediator", session_id=3),
    ]
    for subject, _body, html in made:
        assert "Pat" not in subject and "Mia" not in subject and "Lee" not in subject
        assert "DRS-2026-00042" in subject
        assert "<html" in html
    assert made[0][0] == "Invitation: mediation meeting on Monday 26 October 2026 at 10:00 (DRS-2026-00042)"
    assert "Dear Pat Parent," in made[0][1] and "10:00 to 12:00 (UK time, GMT)" in made[0][1]
    assert "authority to agree a settlement" in made[3][1]
    assert "drs session outcome 3" in made[4][1]


def test_every_subject_survives_the_trip_through_a_mime_message_unchanged():
    # Long subjects are folded by the email package; some wordings came back with a leading space.
    from email import message_from_bytes, policy

    from tasks.mail.mailer import OutgoingEmail, build_message

    longest = Meeting(
        "DRS-2026-00042",
        datetime(2026, 9, 30, 10, tzinfo=LONDON),
        datetime(2026, 9, 30, 12, tzinfo=LONDON),
        "Hall",
        None,
        None,
        "Mia",
        LONDON,
    )
    subjects = [
        invitation(longest, name=None, role="family")[0],
        invitation(longest, name=None, role="la", update=True)[0],
        cancellation(longest, name=None)[0],
        reminder(longest, name=None, role="icb")[0],
        outcome_nudge(longest, name=None, session_id=12345)[0],
    ]
    for subject in subjects:
        raw = bytes(build_message(OutgoingEmail(to="a@example.org", subject=subject, text="x"), "m@example.org"))
        assert str(message_from_bytes(raw, policy=policy.default)["Subject"]) == subject
