"""Calendar invitations (.ics, RFC 5545/5546) for mediation meetings, made with `icalendar`.

One invitation per recipient (one-to-one): each file names the service as ORGANIZER (the
service's mail-from address) and the recipient as its only ATTENDEE, so no attendee sees
another's address. The event's UID is the session's `uid` and never changes; SEQUENCE is the
session's `sequence` (it rises on every reschedule and on cancellation), so calendars update
or remove the same entry. Times are written in the service's time zone (`TZID=Europe/London`)
with a VTIMEZONE built from the zoneinfo database: one observance per clock change in the
years around the meeting, each DTSTART in the local time *before* the change as RFC 5545
§3.6.5 requires (01:00 GMT in March, 02:00 BST in October).

Why not `icalendar.Timezone.from_tzid` (icalendar 7.3): it writes the March observance as
DTSTART 02:00 with TZOFFSETFROM +0000, which a client reading the VTIMEZONE by the RFC places
an hour late (02:00 GMT; the clocks change at 01:00 GMT), and folds later years into RDATEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tasks.mail.attachment import Attachment
from tasks.sessions.meeting_view import Meeting, meeting_of

if TYPE_CHECKING:
    from models.db import Case, MediationSession, SessionAttendee

PRODID = "-//drs-flows//SEND mediation//EN"
UTC = UTC


@dataclass(frozen=True)
class Invitee:
    name: str | None
    email: str
    role: str  # family | supporter | la | icb | mediator | other


def _transitions(tz: ZoneInfo, first: date, last: date) -> list[tuple[datetime, timedelta, timedelta, str, bool]]:
    """(utc instant, offset before, offset after, name after, is_dst after) for each change of
    UTC offset between `first` and `last`, found day by day and refined to the minute."""

    def offset(at: datetime) -> timedelta:
        return at.astimezone(tz).utcoffset() or timedelta(0)

    found = []
    moment = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(last, datetime.min.time(), tzinfo=UTC)
    step = timedelta(days=1)  # offsets never change twice in a day
    before = offset(moment)
    while moment < end:
        nxt = moment + step
        after = offset(nxt)
        if after != before:
            lo, hi = 0, 24 * 60  # minutes after `moment`: the change happens in (lo, hi]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(moment + timedelta(minutes=mid)) == before:
                    lo = mid
                else:
                    hi = mid
            instant = moment + timedelta(minutes=hi)
            local = instant.astimezone(tz)
            found.append((instant, before, after, local.tzname() or "", bool(local.dst())))
            before = after
        moment = nxt
    return found


def _offset_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def vtimezone(tzid: str, around: datetime):
    """A VTIMEZONE for `tzid` covering the year before to the year after `around`."""
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

    tz = ZoneInfo(tzid)
    first, last = date(around.year - 1, 1, 1), date(around.year + 2, 1, 1)
    component = Timezone()
    component.add("tzid", tzid)
    start_local = datetime.combine(first, datetime.min.time(), tzinfo=UTC).astimezone(tz)
    changes = _transitions(tz, first, last)
    # The offset in force at the start of the range, as a first observance.
    base_cls = TimezoneDaylight if start_local.dst() else TimezoneStandard
    base = base_cls()
    base.add("dtstart", start_local.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0))
    base.add("tzoffsetfrom", start_local.utcoffset())
    base.add("tzoffsetto", start_local.utcoffset())
    base.add("tzname", start_local.tzname())
    component.add_component(base)
    for instant, before, after, name, is_dst in changes:
        sub = TimezoneDaylight() if is_dst else TimezoneStandard()
        sub.add("dtstart", (instant + before).replace(tzinfo=None))  # local time before the change
        sub.add("tzoffsetfrom", before)
        sub.add("tzoffsetto", after)
        sub.add("tzname", name)
        component.add_component(sub)
    return component


def build_ics(
    meeting: Meeting,
    invitee: Invitee,
    *,
    organizer_email: str,
    organizer_name: str,
    tzid: str,
    now: datetime,
    method: str = "REQUEST",
) -> bytes:
    """The .ics for one recipient: METHOD:REQUEST (invite, update, reminder) or METHOD:CANCEL."""
    from icalendar import Calendar, Event, vCalAddress, vText

    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method!r}")
    tz = ZoneInfo(tzid)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add_component(vtimezone(tzid, meeting.start.astimezone(tz)))
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", meeting.start.astimezone(tz))
    event.add("dtend", meeting.end.astimezone(tz))
    event.add("summary", f"Mediation meeting ({meeting.case_ref})")
    location = meeting.venue or meeting.online_url or "Online"
    event.add("location", location)
    lines = [f"SEND mediation meeting for case {meeting.case_ref}."]
    if meeting.venue:
        lines.append(f"Venue: {meeting.venue}")
    if meeting.online_url:
        lines.append(f"Online: {meeting.online_url}")
        event.add("url", meeting.online_url)
    if meeting.access_notes:
        lines.append(f"Access and parking: {meeting.access_notes}")
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(organizer_name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{invitee.email}")
    if invitee.name:
        attendee.params["cn"] = vText(invitee.name)
    attendee.params["role"] = vText("CHAIR" if invitee.role == "mediator" else "REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("NEEDS-ACTION")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee)
    cal.add_component(event)
    return cal.to_ical()


def ics_attachment(content: bytes, method: str = "REQUEST") -> Attachment:
    """The outbox attachment: `text/calendar; method=…` so mail clients show it as an invitation."""
    filename = "cancellation.ics" if method == "CANCEL" else "invite.ics"
    return Attachment(filename=filename, mime_type=f"text/calendar; method={method}", content=content)


def session_ics(
    session: MediationSession, case: Case, attendee: SessionAttendee, now: datetime, method: str = "REQUEST"
) -> bytes:
    """The .ics for one attendee of `session` as it stands (used for invites, updates, cancellations
    and reminders)."""
    from tasks.mail.layout import SERVICE_NAME
    from tasks.settings import get_settings

    settings = get_settings()
    return build_ics(
        meeting_of(session, case),
        Invitee(attendee.name, attendee.email or "", attendee.role),
        organizer_email=settings.mail_from,
        organizer_name=SERVICE_NAME,
        tzid=settings.timezone,
        now=now,
        method=method,
    )
