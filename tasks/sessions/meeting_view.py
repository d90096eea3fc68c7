"""THE meeting type: what every email, reminder and `.ics` invitation says about a mediation meeting.

One frozen value built from a session row (`meeting_of`), read by the email words
(`tasks.sessions.emails`: `when`, `day`, `start_time`, `place_lines`) and by the calendar files
(`tasks.sessions.invites.build_ics`: `uid`, `sequence`, the place). Times are shown in `tz`, the
service's time zone (Europe/London) with GMT/BST named. No child's name anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from tasks.mail.layout import long_date

if TYPE_CHECKING:
    from models.db import Case, MediationSession


@dataclass(frozen=True)
class Meeting:
    """A mediation meeting as the people invited see it. `uid` and `sequence` identify the
    calendar entry and its version (empty and 0 when only the words are wanted)."""

    case_ref: str
    start: datetime
    end: datetime
    venue: str | None
    online_url: str | None
    access_notes: str | None
    mediator_name: str
    tz: tzinfo
    uid: str = ""
    sequence: int = 0

    @property
    def day(self) -> str:
        return long_date(self.start.astimezone(self.tz).date())

    @property
    def start_time(self) -> str:
        return f"{self.start.astimezone(self.tz):%H:%M}"

    @property
    def when(self) -> str:
        """'Monday 26 October 2026, 10:00 to 12:00 (UK time, GMT)'."""
        start, end = self.start.astimezone(self.tz), self.end.astimezone(self.tz)
        until = f"{end:%H:%M}" if end.date() == start.date() else f"{long_date(end.date())} {end:%H:%M}"
        return f"{long_date(start.date())}, {start:%H:%M} to {until} (UK time, {start.tzname()})"

    def place_lines(self) -> list[tuple[str, str]]:
        rows = [("When", self.when)]
        if self.venue:
            rows.append(("Where", self.venue))
        if self.online_url:
            rows.append(("Online link", self.online_url))
        if self.access_notes:
            rows.append(("Access and parking", self.access_notes))
        rows.append(("Mediator", self.mediator_name))
        rows.append(("Case reference", self.case_ref))
        return rows


def meeting_of(session: MediationSession, case: Case) -> Meeting:
    """The meeting `session` (of `case`) as it stands now, in the service's time zone."""
    from tasks.timekeeping import local_tz

    return Meeting(
        case_ref=case.ref,
        start=session.start_at,
        end=session.end_at,
        venue=session.venue,
        online_url=session.online_url,
        access_notes=session.access_notes,
        mediator_name=session.mediator.name,
        tz=local_tz(),
        uid=session.uid,
        sequence=session.sequence,
    )
