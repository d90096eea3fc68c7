"""What a session command is asked and what it answers: the people, the place and time checks,
`SessionError`, and the typed `SessionResult` (`tasks.sessions.meetings` runs the commands)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from models.errors import InvalidInput
from tasks.cases.registry import looks_like_email

CANCELLED_BY = ("family", "la", "service", "icb")
ROLES = ("family", "supporter", "la", "icb", "mediator", "other")


class SessionError(InvalidInput):
    """A session request the rules or the data refuse; one line, no personal data beyond what was
    typed. An `InvalidInput` (so also a `ValueError`): the CLI exits 2."""


@dataclass(frozen=True)
class Person:
    name: str
    email: str


def parse_person(text: str, option: str = "--attendee") -> Person:
    """'NAME=EMAIL' -> Person; `SessionError` otherwise."""
    from models.domain.fields import text_problem

    name, sep, email = (text or "").rpartition("=")
    if not sep or not name.strip():
        raise SessionError(f"{option} needs NAME=EMAIL")
    problem = text_problem(name)
    if problem:
        raise SessionError(f"{option}: the name {problem}")
    if not looks_like_email(email):
        raise SessionError(f"{option}: the email address is not valid (use NAME=EMAIL)")
    return Person(name.strip(), email.strip().lower())


def check_place(venue: str | None, online_url: str | None, access_notes: str | None) -> None:
    """`SessionError` for a venue or access notes that are not acceptable text, or a meeting link
    that is not `https://` with a valid host."""
    from models.domain.fields import LINE_MAX, text_problem, url_problem

    for option, value, single in (("--venue", venue, True), ("--access-notes", access_notes, False)):
        problem = text_problem(value, limit=LINE_MAX if single else 4 * LINE_MAX, single_line=single)
        if problem:
            raise SessionError(f"{option} {problem}")
    if online_url:
        problem = url_problem(online_url)
        if problem:
            raise SessionError(f"--online link {problem}")


def check_times(start: datetime, end: datetime | None) -> None:
    """`SessionError` for a start or end outside the sane window (2000-01-01 to 2100-12-31)."""
    from models.domain.fields import date_problem

    for option, value in (("--start", start), ("--end", end)):
        problem = date_problem(value)
        if problem:
            assert value is not None  # a missing end is no problem
            raise SessionError(f"{option} {value.isoformat()} {problem}")


@dataclass(frozen=True)
class SessionResult:
    """What a command did (JSON-able via `as_dict`)."""

    session_id: int
    case_ref: str
    status: str
    sequence: int
    start: datetime
    end: datetime
    notice_by: date | None = None
    short_notice: bool = False
    emails_queued: int = 0
    without_email: tuple[str, ...] = ()  # roles of attendees who get no email
    notes: tuple[str, ...] = ()  # advice for the person booking (no personal data)

    def as_dict(self) -> dict:
        return {
            "session_id": self.session_id,
            "case_ref": self.case_ref,
            "status": self.status,
            "sequence": self.sequence,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "notice_by": self.notice_by.isoformat() if self.notice_by else None,
            "short_notice": self.short_notice,
            "emails_queued": self.emails_queued,
            "without_email": list(self.without_email),
            "notes": list(self.notes),
        }
