"""The words of every mediation-meeting email: invitation, update, cancellation, reminder, nudge.

Each function returns (subject, text, html) through the shared `render_email` layout. Times are
in the service's local time (Europe/London) with GMT/BST named. Subjects carry the case
reference and the date only: never a child's or family member's name.
"""

from __future__ import annotations

from collections.abc import Sequence

from tasks.mail.layout import render_email
from tasks.sessions.meeting_view import Meeting

ROLE_LABELS = {
    "family": "Parent, carer or young person",
    "supporter": "Supporter",
    "la": "Local authority officer",
    "icb": "Integrated care board representative",
    "mediator": "Mediator",
    "other": "Attendee",
}


def attendee_lines(attendees) -> list[str]:
    """For the mediator's emails: 'Local authority officer: Lee Officer (authority to settle)' per
    other attendee (objects with role, name, authority_to_settle)."""
    lines = []
    for a in attendees:
        if a.role == "mediator":
            continue
        label = ROLE_LABELS.get(a.role, "Attendee")
        extra = " (authority to settle)" if a.authority_to_settle else ""
        lines.append(f"{label}: {a.name or 'name not recorded'}{extra}")
    return lines


def _greeting(name: str | None) -> str:
    return f"Dear {name}," if name else "Hello,"


def _role_paragraphs(role: str, authority_to_settle: bool, others: Sequence[str] = ()) -> list:
    if role == "family":
        return [
            "You may bring one supporter with you. Please tell us if you need any adjustments to take part.",
            "You may be able to claim back reasonable travel expenses of attending from your local authority.",
        ]
    if role == "la":
        if authority_to_settle:
            return [
                "Our records show that you will attend with authority to agree a settlement on behalf of the local authority."
            ]
        return [
            "Please make sure that someone with authority to agree a settlement on behalf of the local authority "
            "attends, or can be reached during the meeting."
        ]
    if role == "icb":
        return ["You are invited because the disagreement includes health care provision."]
    if role == "mediator":
        lines: list = [
            "You are the mediator for this meeting. Please record the outcome when it ends (drs session outcome)."
        ]
        if others:
            lines += ["Invited:", list(others)]
        return lines
    return []


def invitation(
    m: Meeting,
    *,
    name: str | None,
    role: str,
    authority_to_settle: bool = False,
    update: bool = False,
    others: Sequence[str] = (),
) -> tuple[str, str, str]:
    """The first invitation, or (`update`) the changed date after a reschedule."""
    if update:
        subject = f"Moved: mediation meeting now on {m.day} at {m.start_time} ({m.case_ref})"
        heading = "Your mediation meeting has moved"
        opening = (
            "The mediation meeting has a new date or time. The calendar invitation attached replaces the earlier one."
        )
    else:
        subject = f"Invitation: mediation meeting on {m.day} at {m.start_time} ({m.case_ref})"
        heading = "You are invited to a mediation meeting"
        opening = (
            "You are invited to a SEND mediation meeting. Meetings usually last about 2 hours, "
            "at a neutral venue. A calendar invitation is attached."
        )
    paragraphs = [
        opening,
        *_role_paragraphs(role, authority_to_settle, others),
        "If you cannot come, please reply to this email as soon as you can.",
    ]
    text, html = render_email(heading, paragraphs, greeting=_greeting(name), key_dates=m.place_lines())
    return subject, text, html


def cancellation(m: Meeting, *, name: str | None) -> tuple[str, str, str]:
    subject = f"Cancelled: mediation meeting on {m.day} at {m.start_time} ({m.case_ref})"
    paragraphs = [
        "The mediation meeting below has been cancelled. The attached calendar update removes it from your calendar.",
        "We will be in touch about what happens next.",
    ]
    text, html = render_email(
        "Mediation meeting cancelled", paragraphs, greeting=_greeting(name), key_dates=m.place_lines()
    )
    return subject, text, html


def reminder(
    m: Meeting, *, name: str | None, role: str, authority_to_settle: bool = False, others: Sequence[str] = ()
) -> tuple[str, str, str]:
    subject = f"Reminder: mediation meeting on {m.day} at {m.start_time} ({m.case_ref})"
    paragraphs = [
        "This is a reminder of the mediation meeting below. The calendar invitation is attached again.",
        *_role_paragraphs(role, authority_to_settle, others),
        "If you cannot come, please reply to this email as soon as you can.",
    ]
    text, html = render_email(
        "Reminder: mediation meeting", paragraphs, greeting=_greeting(name), key_dates=m.place_lines()
    )
    return subject, text, html


def outcome_nudge(m: Meeting, *, name: str | None, session_id: int) -> tuple[str, str, str]:
    subject = f"Please record the outcome of the mediation meeting ({m.case_ref})"
    paragraphs = [
        "The mediation meeting below has ended and no outcome is recorded yet. The after-mediation "
        "certificate is due 3 working days after the meeting concludes, so please record it today:",
        f"drs session outcome {session_id} --result agreed|partial|not-agreed --on YYYY-MM-DD",
    ]
    text, html = render_email(
        "Record the outcome of the meeting",
        paragraphs,
        greeting=_greeting(name),
        key_dates=m.place_lines(),
        footer=None,
    )
    return subject, text, html
