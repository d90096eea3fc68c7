"""`drs session …` and `drs remind` against the real databases: bookings, refusals, invites in
the outbox (parsed with icalendar), the case's clocks, outcomes and exactly-once reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from icalendar import Calendar
from sqlalchemy import select

from models.db import AuditEntry, MediationSession, OutboxEmail, SessionAttendee

MEDIATOR = "mia@service.example.org"
OTHER_MEDIATOR = "max@service.example.org"
FAMILY = "pat@families.example"
LA = "lee.officer@salford.example.org"
HALL = "Community Hall, 1 Example Street, Salford"


def make_case(received: date = date(2026, 10, 1), la: str = "Salford", **fields) -> str:
    from tasks.cases.casework import find_local_authority, new_case
    from tasks.db import unit_of_work

    now = datetime.combine(received, datetime.min.time(), tzinfo=UTC).replace(hour=10)
    with unit_of_work() as db:
        case = new_case(
            db,
            la=find_local_authority(db, la),
            service="mediation",
            received_on=received,
            now=now,
            today=received,
            recorded_by="test",
            decision_type="refuse_assessment",
            decision_letter_sent_on=date(2026, 9, 20),
            requester_name="Pat Parent",
            requester_email=FAMILY,
            child_name="Sam Child",
            **fields,
        )
        db.commit()
        return case.ref


@pytest.fixture
def booked(drs, las):
    """A case, two mediators, and one meeting on Mon 30 Nov 2026 10:00 booked on 5 Oct."""
    assert drs("mediator", "add", "--name", "Mia Mediator", "--email", MEDIATOR).exit_code == 0
    assert drs("mediator", "add", "--name", "Max Mediator", "--email", OTHER_MEDIATOR).exit_code == 0
    ref = make_case()
    r = drs(
        "session",
        "schedule",
        ref,
        "--start",
        "2026-11-30T10:00",
        "--end",
        "2026-11-30T12:00",
        "--venue",
        HALL,
        "--access-notes",
        "Step-free; car park at rear",
        "--mediator",
        MEDIATOR,
        "--la-officer",
        f"Lee Officer={LA}",
        "--authority-to-settle",
        "--supporter",
        "Sue Supporter=sue@example.net",
        "--now",
        "2026-10-05T10:00+01:00",
    )
    assert r.exit_code == 0, r.stderr
    return ref, int(r.stdout.strip().splitlines()[-1])


def outbox(kind: str | None = None) -> list[SimpleNamespace]:
    """The outbox rows (of `kind`), copied out of the transaction."""
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        stmt = select(OutboxEmail).order_by(OutboxEmail.id)
        if kind:
            stmt = stmt.where(OutboxEmail.kind == kind)
        return [
            SimpleNamespace(
                key=r.key,
                kind=r.kind,
                to_addr=r.to_addr,
                subject=r.subject,
                body_text=r.body_text,
                not_before=r.not_before,
                status=r.status,
                attachments=[
                    SimpleNamespace(mime_type=a.mime_type, content=a.content, filename=a.filename)
                    for a in r.attachments
                ],
            )
            for r in db.scalars(stmt).all()
        ]


def calendar_of(row) -> Calendar:
    (att,) = [a for a in row.attachments if a.mime_type.startswith("text/calendar")]
    return Calendar.from_ical(att.content)


def test_schedule_prints_the_id_last_and_invites_everyone_one_to_one(drs, booked):
    ref, session_id = booked
    invites = outbox("session-invite")
    assert sorted(r.to_addr for r in invites) == sorted([FAMILY, MEDIATOR, LA, "sue@example.net"])
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        session = db.get(MediationSession, session_id)
        roles = {
            a.role: SimpleNamespace(id=a.id, email=a.email, authority_to_settle=a.authority_to_settle)
            for a in db.scalars(select(SessionAttendee).where(SessionAttendee.session_id == session_id))
        }
        assert session.status == "scheduled" and session.sequence == 0
        assert session.end_at - session.start_at == timedelta(hours=2)
        uid = session.uid
    assert set(roles) == {"family", "mediator", "la", "supporter"}
    assert roles["la"].authority_to_settle and not roles["family"].authority_to_settle
    assert roles["family"].email == FAMILY  # from the case's requester
    for row in invites:
        cal = calendar_of(row)
        event = cal.events[0]
        assert str(cal["method"]) == "REQUEST"
        assert str(event["uid"]) == uid and int(event["sequence"]) == 0
        assert str(event["attendee"]) == f"mailto:{row.to_addr}"
        assert str(event["organizer"]) == "mailto:mediation@service.example.org"
        assert row.key == f"invite:{session_id}:{[a for a in roles.values() if a.email == row.to_addr][0].id}:0"
        assert "Sam" not in row.subject and "Pat" not in row.subject
        assert row.subject == f"Invitation: mediation meeting on Monday 30 November 2026 at 10:00 ({ref})"
        assert row.not_before is None
        assert row.attachments[0].mime_type == "text/calendar; method=REQUEST"


def test_the_case_clock_shows_the_notice_then_forgets_a_cancelled_meeting(drs, booked):
    ref, session_id = booked
    doc = drs("case", "show", ref, "--json", "--today", "2026-10-05").json()
    assert doc["clocks"]["notice_by"] == {
        "due": "2026-11-23",
        "target": "2026-11-23",
        "state": "met",
        "owner": "adviser",
        "level": "VERIFIED",
        "met_on": "2026-10-05",
        "late_wd": 0,
    }  # booked 5 Oct, in time
    assert doc["status"] == "mediation-arranged"
    r = drs("session", "cancel", str(session_id), "--by", "la", "--now", "2026-10-06T21:30+01:00")
    assert r.exit_code == 0, r.stderr
    assert "notice_by" not in drs("case", "show", ref, "--json", "--today", "2026-10-06").json()["clocks"]
    cancels = outbox("session-cancel")
    assert len(cancels) == 4
    for row in cancels:
        cal = calendar_of(row)
        assert str(cal["method"]) == "CANCEL" and str(cal.events[0]["status"]) == "CANCELLED"
        assert int(cal.events[0]["sequence"]) == 1
        assert row.attachments[0].mime_type == "text/calendar; method=CANCEL"
        # cancelled at 21:30: held until 08:00 (quiet hours)
        assert row.not_before == datetime(2026, 10, 7, 7, 0, tzinfo=UTC)
    again = drs("session", "cancel", str(session_id), "--now", "2026-10-07T10:00+01:00")
    assert again.exit_code == 2 and "cancelled" in again.stderr and len(again.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args,reason",
    [
        (["--start", "2026-11-30T11:00", "--venue", "Library, 2 Road"], "mediator is already booked"),
        (
            [
                "--start",
                "2026-11-30T09:00",
                "--venue",
                "community hall, 1 example street, salford",
                "--mediator",
                OTHER_MEDIATOR,
            ],
            "venue is already booked",
        ),
        (["--start", "2026-10-02T10:00", "--venue", "Library"], "in the past"),
        (
            ["--start", "2026-12-01T12:00", "--end", "2026-12-01T10:00", "--venue", "Library"],
            "end must be after the start",
        ),
        (
            ["--start", "2026-12-01T10:00", "--venue", "Library", "--mediator", "nobody@service.example.org"],
            "unknown mediator",
        ),
        (["--start", "2026-10-08T10:00", "--venue", "Library"], "inside the 5-working-day notice period"),
        (["--start", "2026-12-01T10:00"], "--venue"),
        (["--start", "2026-12-01T10:00", "--venue", "Library", "--attendee", "no-email-here"], "NAME=EMAIL"),
    ],
)
def test_refusals_exit_2_with_one_line(drs, booked, args, reason):
    ref, _ = booked
    if "--mediator" not in args:
        args = [*args, "--mediator", MEDIATOR]
    before = len(outbox())
    r = drs("session", "schedule", ref, *args, "--now", "2026-10-05T10:00+01:00")
    assert r.exit_code == 2
    assert reason in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stdout == ""
    assert len(outbox()) == before  # nothing written


def test_an_unknown_case_is_refused(drs, las):
    drs("mediator", "add", "--name", "Mia Mediator", "--email", MEDIATOR)
    r = drs(
        "session",
        "schedule",
        "DRS-2026-09999",
        "--start",
        "2026-12-01T10:00",
        "--venue",
        "Library",
        "--mediator",
        MEDIATOR,
        "--now",
        "2026-10-05T10:00+01:00",
    )
    assert r.exit_code == 2 and "unknown case" in r.stderr


def test_short_notice_needs_the_familys_agreement_and_says_so(drs, booked):
    ref, _ = booked
    r = drs(
        "session",
        "schedule",
        ref,
        "--start",
        "2026-10-08T14:00",
        "--online",
        "https://meet.example/abc",
        "--mediator",
        OTHER_MEDIATOR,
        "--short-notice-agreed",
        "--now",
        "2026-10-05T10:00+01:00",
    )
    assert r.exit_code == 0, r.stderr
    assert "short notice agreed" in r.stdout and "2026-10-01" in r.stdout
    new_id = int(r.stdout.strip().splitlines()[-1])
    clock = drs("case", "show", ref, "--json", "--today", "2026-10-05").json()["clocks"]["notice_by"]
    assert clock["due"] == "2026-10-01" and clock["state"] == "met"  # the family agreed to less notice
    assert new_id != booked[1]


def test_reschedule_updates_the_same_calendar_entry_with_a_higher_sequence(drs, booked):
    ref, session_id = booked
    r = drs(
        "session",
        "reschedule",
        str(session_id),
        "--start",
        "2026-12-07T14:00",
        "--end",
        "2026-12-07T16:00",
        "--now",
        "2026-11-02T09:00+00:00",
    )
    assert r.exit_code == 0, r.stderr
    uid = {str(calendar_of(r_).events[0]["uid"]) for r_ in outbox("session-invite")}
    updates = outbox("session-update")
    assert len(updates) == 4
    for row in updates:
        event = calendar_of(row).events[0]
        assert {str(event["uid"])} == uid
        assert int(event["sequence"]) == 1
        assert event.decoded("dtstart") == datetime(2026, 12, 7, 14, tzinfo=UTC)
        assert row.subject == f"Moved: mediation meeting now on Monday 7 December 2026 at 14:00 ({ref})"
        assert row.key.endswith(":1") and row.key.startswith(f"invite:{session_id}:")
    doc = drs("case", "show", ref, "--json", "--today", "2026-11-02").json()
    assert doc["clocks"]["notice_by"]["due"] == "2026-11-30"
    clash = drs(
        "session", "reschedule", str(session_id), "--start", "2026-11-03T10:00", "--now", "2026-11-02T09:00+00:00"
    )
    assert clash.exit_code == 2 and "notice period" in clash.stderr


def test_outcome_records_the_events_and_starts_the_certificate_and_follow_up_clocks(drs, booked):
    ref, session_id = booked
    early = drs(
        "session", "outcome", str(session_id), "--result", "agreed", "--on", "2026-11-29", "--now", "2026-11-30T13:00Z"
    )
    assert early.exit_code == 2 and "before the meeting" in early.stderr
    bad = drs(
        "session",
        "outcome",
        str(session_id),
        "--result",
        "not-agreed",
        "--on",
        "2026-11-30",
        "--item",
        "assess",
        "--now",
        "2026-11-30T13:00Z",
    )
    assert bad.exit_code == 2
    r = drs(
        "session",
        "outcome",
        str(session_id),
        "--result",
        "partial",
        "--on",
        "2026-11-30",
        "--item",
        "assess",
        "--item",
        "other",
        "--now",
        "2026-11-30T13:00Z",
    )
    assert r.exit_code == 0, r.stderr
    doc = drs("case", "show", ref, "--json", "--today", "2026-11-30").json()
    assert doc["events"] == [
        {"event": "mediation-concluded", "on": "2026-11-30"},
        {"event": "agreement-reached", "on": "2026-11-30", "items": ["assess", "other"]},
    ]
    assert doc["clocks"]["certificate_due"]["due"] == "2026-12-03"  # + 3 WD, after mediation
    assert doc["clocks"]["certificate_due"]["owner"] == "mediator"
    assert doc["clocks"]["agreement_assess_notify"]["due"] == "2026-12-14"
    assert doc["clocks"]["agreement_other_do"]["due"] == "2026-12-14"
    twice = drs(
        "session", "outcome", str(session_id), "--result", "agreed", "--on", "2026-11-30", "--now", "2026-11-30T14:00Z"
    )
    assert twice.exit_code == 2 and "already has an outcome" in twice.stderr
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert "session:scheduled" in actions and "session:outcome" in actions


def test_remind_queues_each_reminder_once_and_none_for_a_cancelled_meeting(drs, booked):
    ref, session_id = booked
    first = drs("remind", "--now", "2026-11-23T10:00+00:00", "--json")
    assert first.exit_code == 0, first.stderr
    assert first.json()["queued"] == 4 and first.json()["by_kind"] == {"7d": 4}
    again = drs("remind", "--now", "2026-11-23T11:00+00:00", "--json").json()
    assert again["queued"] == 0 and again["already_queued"] == 4
    reminders = outbox("session-reminder")
    assert sorted(r.key.split(":")[3] for r in reminders) == ["7d"] * 4
    assert all(str(calendar_of(r)["method"]) == "REQUEST" for r in reminders)
    assert drs("session", "cancel", str(session_id), "--now", "2026-11-24T10:00+00:00").exit_code == 0
    after = drs("remind", "--now", "2026-11-27T10:00+00:00", "--json").json()
    assert after["queued"] == 0
    assert outbox("session-reminder") == []  # never delivered, so withdrawn by the cancellation


def _received(smtp_server) -> list[tuple[str, str]]:
    return sorted((str(m["To"]), str(m["Subject"]).split(":")[0]) for m in smtp_server.messages)


def test_a_reminder_held_overnight_is_withdrawn_when_the_meeting_is_cancelled(drs, booked, smtp_server):
    from tasks.mail.delivery import deliver_pending

    ref, session_id = booked
    assert drs("remind", "--now", "2026-11-23T10:00+00:00", "--json").json()["by_kind"] == {"7d": 4}
    deliver_pending(datetime(2026, 11, 23, 10, 5, tzinfo=UTC))
    smtp_server.clear()
    # Fri 27 Nov 20:30: the 1-working-day reminder is queued, held for 08:00 (quiet hours) ...
    late = drs("remind", "--now", "2026-11-27T20:30+00:00", "--json").json()
    assert late["by_kind"] == {"1wd": 4} and late["deferred"] == 4
    # ... and the meeting is cancelled at 21:00, before anything went.
    assert drs("session", "cancel", str(session_id), "--now", "2026-11-27T21:00+00:00").exit_code == 0
    deliver_pending(datetime(2026, 11, 28, 8, 0, tzinfo=UTC))
    assert _received(smtp_server) == sorted((to, "Cancelled") for to in [FAMILY, MEDIATOR, LA, "sue@example.net"])
    sent_reminders = outbox("session-reminder")
    assert [r.key.split(":")[3] for r in sent_reminders] == ["7d"] * 4  # what was sent stays on record
    assert all(r.status == "sent" for r in sent_reminders)


def test_a_reminder_held_overnight_for_the_old_time_is_withdrawn_when_the_meeting_moves(drs, booked, smtp_server):
    from tasks.mail.delivery import deliver_pending

    ref, session_id = booked
    deliver_pending(datetime(2026, 10, 5, 9, 5, tzinfo=UTC))  # the invitations
    smtp_server.clear()
    assert drs("remind", "--now", "2026-11-27T20:30+00:00", "--json").json()["by_kind"] == {"1wd": 4}
    r = drs(
        "session",
        "reschedule",
        str(session_id),
        "--start",
        "2026-12-14T10:00",
        "--end",
        "2026-12-14T12:00",
        "--now",
        "2026-11-27T20:45+00:00",
    )
    assert r.exit_code == 0, r.stderr
    deliver_pending(datetime(2026, 11, 28, 8, 0, tzinfo=UTC))
    assert _received(smtp_server) == sorted((to, "Moved") for to in [FAMILY, MEDIATOR, LA, "sue@example.net"])
    assert outbox("session-reminder") == []
    # the new version is reminded afresh
    fresh = drs("remind", "--now", "2026-12-07T10:00+00:00", "--json").json()
    assert fresh["by_kind"] == {"7d": 4}
    assert {r.key.split(":")[4] for r in outbox("session-reminder")} == {"1"}


def test_remind_refuses_a_bad_offset(drs, las):
    r = drs("remind", "--before", "soon", "--now", "2026-11-23T10:00+00:00")
    assert r.exit_code == 2 and "7d, 1wd or 3h" in r.stderr


@pytest.mark.parametrize(
    "day,local_text,offset",
    [
        ("2026-10-23", "Friday 23 October 2026, 10:00 to 12:00 (UK time, BST)", 1),
        ("2026-10-26", "Monday 26 October 2026, 10:00 to 12:00 (UK time, GMT)", 0),
    ],
)
def test_a_booking_either_side_of_the_october_change_shows_the_right_local_time(drs, las, day, local_text, offset):
    drs("mediator", "add", "--name", "Mia Mediator", "--email", MEDIATOR)
    ref = make_case()
    r = drs(
        "session",
        "schedule",
        ref,
        "--start",
        f"{day}T10:00",
        "--venue",
        HALL,
        "--mediator",
        MEDIATOR,
        "--now",
        "2026-10-01T10:00+01:00",
    )
    assert r.exit_code == 0, r.stderr
    assert local_text in r.stdout
    (family,) = [row for row in outbox("session-invite") if row.to_addr == FAMILY]
    assert local_text in family.body_text
    start = calendar_of(family).events[0].decoded("dtstart")
    assert (start.hour, start.utcoffset().total_seconds()) == (10, offset * 3600)


def test_health_issues_call_for_the_icb_who_is_invited_in_their_role(drs, las):
    drs("mediator", "add", "--name", "Mia Mediator", "--email", MEDIATOR)
    ref = make_case(health_issues=True)
    without = drs(
        "session",
        "schedule",
        ref,
        "--start",
        "2026-12-01T10:00",
        "--venue",
        "Library",
        "--mediator",
        MEDIATOR,
        "--now",
        "2026-10-05T10:00+01:00",
    )
    assert without.exit_code == 0 and "--icb" in without.stderr
    r = drs(
        "session",
        "schedule",
        ref,
        "--start",
        "2026-12-02T10:00",
        "--venue",
        "Library",
        "--mediator",
        MEDIATOR,
        "--icb",
        "Ivy Health=ivy@icb.example.nhs.uk",
        "--attendee",
        "Pat Again=PAT@families.example",
        "--now",
        "2026-10-05T10:00+01:00",
    )
    assert r.exit_code == 0 and "--icb" not in r.stderr
    second = [row for row in outbox("session-invite") if "2 December" in row.subject]
    assert sorted(row.to_addr for row in second) == sorted(
        [FAMILY, MEDIATOR, "ivy@icb.example.nhs.uk"]
    )  # one per address
    (icb,) = [row for row in second if row.to_addr.endswith("nhs.uk")]
    assert "health care provision" in icb.body_text and "Dear Ivy Health," in icb.body_text


def test_a_move_can_change_the_place_and_still_refuses_a_taken_venue(drs, booked):
    ref, session_id = booked
    other_ref = make_case(la="Bolton")
    r = drs(
        "session",
        "schedule",
        other_ref,
        "--start",
        "2026-12-03T10:00",
        "--venue",
        "Library, 2 Road",
        "--mediator",
        OTHER_MEDIATOR,
        "--now",
        "2026-10-05T10:00+01:00",
    )
    assert r.exit_code == 0, r.stderr
    taken = drs(
        "session",
        "reschedule",
        str(session_id),
        "--start",
        "2026-12-03T11:00",
        "--venue",
        "library 2 road",
        "--now",
        "2026-10-06T10:00+01:00",
    )
    assert taken.exit_code == 2 and "venue is already booked" in taken.stderr
    same = drs(
        "session",
        "reschedule",
        str(session_id),
        "--start",
        "2026-11-30T10:00",
        "--end",
        "2026-11-30T12:00",
        "--now",
        "2026-10-06T10:00+01:00",
    )
    assert same.exit_code == 2 and "already has that time and place" in same.stderr
    moved = drs(
        "session",
        "reschedule",
        str(session_id),
        "--start",
        "2026-11-30T10:00",
        "--end",
        "2026-11-30T12:00",
        "--venue",
        "Town Hall, 3 Square",
        "--now",
        "2026-10-06T10:00+01:00",
    )
    assert moved.exit_code == 0, moved.stderr
    (family,) = [row for row in outbox("session-update") if row.to_addr == FAMILY]
    assert "Where: Town Hall, 3 Square" in family.body_text
    event = calendar_of(family).events[0]
    assert str(event["location"]) == "Town Hall, 3 Square" and int(event["sequence"]) == 1


def test_the_mediator_alone_sees_who_is_coming(drs, booked):
    rows = outbox("session-invite")
    (mediator,) = [row for row in rows if row.to_addr == MEDIATOR]
    assert "- Local authority officer: Lee Officer (authority to settle)" in mediator.body_text
    assert "- Parent, carer or young person: Pat Parent" in mediator.body_text
    assert "- Supporter: Sue Supporter" in mediator.body_text
    (family,) = [row for row in rows if row.to_addr == FAMILY]
    assert "Lee Officer" not in family.body_text and "Sue Supporter" not in family.body_text
