"""A mediation meeting's life under a fake clock, through the real `session-reminders` flow and a
real SMTP server: book → reminders → reschedule → reminders → nudge → outcome, plus a cancelled
meeting that gets a CANCEL and never a reminder. Every .ics part is parsed with icalendar."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.integration.test_sessions_cli import FAMILY, LA, MEDIATOR, OTHER_MEDIATOR, make_case

pytestmark = pytest.mark.flow

LONDON = ZoneInfo("Europe/London")


def at(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


def deliver(box, now: datetime) -> list:
    """Deliver what is due at `now` and return (then forget) what the SMTP server received."""
    from tasks.mail.delivery import deliver_pending

    summary = deliver_pending(now)
    assert summary.failed == 0 and summary.retrying == 0
    got = list(box.messages)
    box.clear()
    return got


def invite_of(message) -> Calendar:
    """The one .ics part of `message`, parsed; its MIME type says the iTIP method."""
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    cal = Calendar.from_ical(part.get_content())
    assert part.get_param("method") == str(cal["method"])
    return cal


def summary_of(messages) -> set[tuple[str, str]]:
    return {(str(m["To"]), str(m["Subject"])) for m in messages}


def run_reminders(now: datetime) -> dict:
    """One real flow run of `session-reminders` at `now`."""
    from flows.reminders import session_reminders

    return session_reminders(now=now)


def check_quiet(now: datetime) -> dict:
    """The same work without a flow run (≈ 1 s cheaper), for the "nothing more is due" steps."""
    from tasks.sessions import job

    return job.run(None, now).as_dict()


def test_a_meeting_from_booking_to_outcome(prefect_harness, smtp_server, las):
    from tasks.cases.registry import add_mediator
    from tasks.db import unit_of_work
    from tasks.sessions.meetings import Person, cancel_session, record_outcome, reschedule_session, schedule_session

    with unit_of_work() as db:
        add_mediator(db, "Mia Mediator", MEDIATOR, at(2026, 10, 1, 9))
        add_mediator(db, "Max Mediator", OTHER_MEDIATOR, at(2026, 10, 1, 9))
        db.commit()
    ref, other_ref = make_case(), make_case(la="Bolton")

    # 1. Book on Mon 2 Nov for Mon 30 Nov 10:00-12:00: one invitation each, one-to-one.
    booked_at = at(2026, 11, 2, 10)
    booking = schedule_session(
        ref,
        start=at(2026, 11, 30, 10),
        end=at(2026, 11, 30, 12),
        mediator_email=MEDIATOR,
        now=booked_at,
        venue="Community Hall, 1 Example Street",
        la_officer=Person("Lee Officer", LA),
        authority_to_settle=True,
    )
    other = schedule_session(
        other_ref,
        start=at(2026, 11, 30, 10),
        end=at(2026, 11, 30, 12),
        mediator_email=OTHER_MEDIATOR,
        now=booked_at,
        online_url="https://meet.example/xyz",
    )
    invited = deliver(smtp_server, booked_at)
    subject = f"Invitation: mediation meeting on Monday 30 November 2026 at 10:00 ({ref})"
    other_subject = f"Invitation: mediation meeting on Monday 30 November 2026 at 10:00 ({other_ref})"
    assert summary_of(invited) == {
        (FAMILY, subject),
        (MEDIATOR, subject),
        (LA, subject),
        (FAMILY, other_subject),
        (OTHER_MEDIATOR, other_subject),
    }
    assert all(len(smtp_server.envelopes[i][1]) == 1 for i in range(len(smtp_server.envelopes)))
    calendars = {(str(m["To"]), str(m["Subject"])): invite_of(m) for m in invited}
    uid = str(calendars[(FAMILY, subject)].events[0]["uid"])
    for (to, subj), cal in calendars.items():
        event = cal.events[0]
        assert str(cal["method"]) == "REQUEST" and int(event["sequence"]) == 0
        assert str(event["attendee"]) == f"mailto:{to}"
        assert event.decoded("dtstart") == at(2026, 11, 30, 10)
        if subj == subject:
            assert str(event["uid"]) == uid
    assert str(calendars[(FAMILY, other_subject)].events[0]["uid"]) != uid

    # 2. The other meeting is cancelled by the family: a CANCEL to each of its attendees.
    cancelled_at = at(2026, 11, 3, 9)
    cancel_session(other.session_id, now=cancelled_at, cancelled_by="family")
    cancels = deliver(smtp_server, cancelled_at)
    cancel_subject = f"Cancelled: mediation meeting on Monday 30 November 2026 at 10:00 ({other_ref})"
    assert summary_of(cancels) == {(FAMILY, cancel_subject), (OTHER_MEDIATOR, cancel_subject)}
    for m in cancels:
        cal = invite_of(m)
        assert str(cal["method"]) == "CANCEL" and int(cal.events[0]["sequence"]) == 1
        assert str(cal.events[0]["status"]) == "CANCELLED"

    # 3. Reminders: nothing before 10:00 on Mon 23 Nov; then the 7-day reminder to each, once.
    assert check_quiet(at(2026, 11, 23, 9))["queued"] == 0
    assert deliver(smtp_server, at(2026, 11, 23, 9)) == []
    first = run_reminders(at(2026, 11, 23, 10))
    assert first["queued"] == 3 and first["by_kind"] == {"7d": 3}
    reminded = deliver(smtp_server, at(2026, 11, 23, 10))
    reminder_subject = f"Reminder: mediation meeting on Monday 30 November 2026 at 10:00 ({ref})"
    assert summary_of(reminded) == {(FAMILY, reminder_subject), (MEDIATOR, reminder_subject), (LA, reminder_subject)}
    assert {(str(invite_of(m).events[0]["uid"]), int(invite_of(m).events[0]["sequence"])) for m in reminded} == {
        (uid, 0)
    }
    assert check_quiet(at(2026, 11, 23, 11))["queued"] == 0
    assert deliver(smtp_server, at(2026, 11, 23, 11)) == []

    # 4. Rescheduled to Mon 7 Dec 14:00: an update of the same calendar entry, SEQUENCE 1.
    moved_at = at(2026, 11, 24, 9)
    reschedule_session(booking.session_id, start=at(2026, 12, 7, 14), end=at(2026, 12, 7, 16), now=moved_at)
    updates = deliver(smtp_server, moved_at)
    update_subject = f"Moved: mediation meeting now on Monday 7 December 2026 at 14:00 ({ref})"
    assert summary_of(updates) == {(FAMILY, update_subject), (MEDIATOR, update_subject), (LA, update_subject)}
    for m in updates:
        event = invite_of(m).events[0]
        assert (str(event["uid"]), int(event["sequence"])) == (uid, 1)
        assert event.decoded("dtstart") == at(2026, 12, 7, 14)
        assert "Monday 7 December 2026, 14:00 to 16:00 (UK time, GMT)" in m.get_body(("plain",)).get_content()

    # 5. The old version's 1-working-day reminder (Fri 27 Nov) does not go; the new version's do.
    assert run_reminders(at(2026, 11, 27, 10))["queued"] == 0
    assert run_reminders(at(2026, 11, 30, 14))["by_kind"] == {"7d": 3}
    seven = deliver(smtp_server, at(2026, 11, 30, 14))
    new_subject = f"Reminder: mediation meeting on Monday 7 December 2026 at 14:00 ({ref})"
    assert summary_of(seven) == {(a, new_subject) for a in (FAMILY, MEDIATOR, LA)} and len(seven) == 3
    # The 1wd reminder (Fri 4 Dec 14:00) picked up by a run at 21:30 waits for 08:00 (quiet hours).
    late = run_reminders(at(2026, 12, 4, 21, 30))
    assert late["by_kind"] == {"1wd": 3} and late["deferred"] == 3
    assert check_quiet(at(2026, 12, 4, 22))["queued"] == 0
    assert deliver(smtp_server, at(2026, 12, 4, 21, 30)) == []
    assert deliver(smtp_server, at(2026, 12, 5, 7, 59)) == []
    morning = deliver(smtp_server, at(2026, 12, 5, 8))
    assert summary_of(morning) == {(a, new_subject) for a in (FAMILY, MEDIATOR, LA)} and len(morning) == 3
    for m in seven + morning:
        event = invite_of(m).events[0]
        assert (str(event["uid"]), int(event["sequence"])) == (uid, 1)

    # 6. After the end with no outcome, the mediator alone is nudged, once.
    assert check_quiet(at(2026, 12, 7, 16, 15))["queued"] == 0
    nudge = run_reminders(at(2026, 12, 7, 16, 30))
    assert nudge["by_kind"] == {"outcome": 1}
    nudged = deliver(smtp_server, at(2026, 12, 7, 16, 30))
    assert summary_of(nudged) == {(MEDIATOR, f"Please record the outcome of the mediation meeting ({ref})")}
    assert f"drs session outcome {booking.session_id}" in nudged[0].get_body(("plain",)).get_content()

    # 7. The outcome is recorded: mediation-concluded, the certificate clock, no more messages.
    record_outcome(booking.session_id, result="agreed", on=date(2026, 12, 7), items=["assess"], now=at(2026, 12, 7, 17))
    assert run_reminders(at(2026, 12, 7, 18))["queued"] == 0
    assert deliver(smtp_server, at(2026, 12, 8, 9)) == []
    from tasks.cases.casework import get_case
    from tasks.cases.view import case_document

    with unit_of_work() as db:
        doc = case_document(db, get_case(db, ref), date(2026, 12, 7))
    assert [e["event"] for e in doc["events"]] == ["mediation-concluded", "agreement-reached"]
    assert doc["clocks"]["certificate_due"]["due"] == "2026-12-10"
    assert doc["clocks"]["agreement_assess_notify"]["due"] == "2026-12-21"
    assert "notice_by" not in doc["clocks"]


def test_the_flow_publishes_counts_only(prefect_harness, drs_env):
    from prefect.client.orchestration import get_client

    summary = run_reminders(at(2026, 12, 1, 10))
    assert summary["queued"] == 0 and summary["checked"] == 0

    async def latest():
        async with get_client() as client:
            return await client.read_latest_artifacts()

    import asyncio

    artifacts = [a for a in asyncio.run(latest()) if a.key == "session-reminders"]
    assert artifacts and "0 meetings checked" in artifacts[0].data and "@" not in artifacts[0].data
