"""Admin actions as deployments: an admin does them from the dashboard's Run form.

Each flow has typed parameters — enums (dropdowns), dates and date-times (pickers), and a
description on every field — that carry case references, ids and codes only, never names, email
addresses or dates of birth. Each calls the same plain function as the matching `drs` command,
so a change made from the dashboard is the same change, audited the same way (`recorded_by` =
`dashboard`; every form asks for "your name", recorded as the audit line's operator). A refused
action fails its run with the reason (case reference only), shown in the dashboard, and one line
in the log — no traceback (`refusal_fails_run`); a database error is said plainly, never with its
SQL; only a crash emails the team. A date-time without an offset is UK time, as on the command line.
What every form shares (the decorator, the dropdowns' choices) is in `flows/admin_forms.py`.

Deployments (no schedule; see flows/deployments.py): admin-record-case-event,
admin-issue-certificate, admin-schedule-session, admin-reschedule-session, admin-cancel-session,
admin-record-outcome, admin-decide-claim; admin-correct-contact, admin-record-contact-reached (issue 15).
"""

from __future__ import annotations

from datetime import date, datetime

from flows.admin_forms import (
    ACTOR,
    AgreementItem,
    CancelledBy,
    CaseEventCode,
    CertificateType,
    ClaimDecision,
    ContactRole,
    ReachedBy,
    SessionOutcome,
    admin_flow,
    form,
    local,
    value,
)

__all__ = [
    "AgreementItem",
    "CancelledBy",
    "CaseEventCode",
    "CertificateType",
    "ClaimDecision",
    "ContactRole",
    "ReachedBy",
    "SessionOutcome",
    "cancel_session",
    "correct_contact",
    "decide_claim",
    "issue_certificate",
    "record_case_event",
    "record_contact_reached",
    "record_outcome",
    "reschedule_session",
    "schedule_session",
]


@admin_flow("admin-record-case-event")
def record_case_event(
    case_ref: str,
    event: CaseEventCode,
    on: date,
    your_name: str,
    health: bool = False,
    certificate_type: CertificateType | None = None,
    agreement_items: list[AgreementItem] | None = None,
) -> dict:
    """Record what happened on a case; its clocks are recomputed.

    Args:
        case_ref: The case reference, e.g. DRS-2026-00042.
        event: What happened.
        on: The date it happened (may be in the past, never in the future).
        your_name: Your name — required; the audit trail records who did this.
        health: For la-received-request: the issues include health care.
        certificate_type: For certificate-issued: which certificate.
        agreement_items: For agreement-reached: what was agreed (one or more). For
            agreement-step-done: the items whose next step the LA has done.
    """
    from tasks.cases.casework import record_case_event as record

    f = form()
    return record(
        case_ref,
        value(event),
        on,
        today=f.today,
        now=f.now,
        recorded_by=ACTOR,
        health=health,
        cert_type=value(certificate_type),
        items=[value(i) for i in agreement_items or ()],
    ).as_dict()


@admin_flow("admin-issue-certificate")
def issue_certificate(case_ref: str, on: date, your_name: str, certificate_type: CertificateType | None = None) -> dict:
    """Issue a mediation certificate: the PDF, and the email to the family through the outbox.

    Args:
        case_ref: The case reference, e.g. DRS-2026-00042.
        on: The issue date.
        your_name: Your name — required; the audit trail records who did this.
        certificate_type: Which certificate (default: the one the case's events call for).
    """
    from tasks.certificates.issue import issue_certificate as issue

    f = form()
    return issue(case_ref.strip(), on, today=f.today, now=f.now, actor=ACTOR, cert_type=value(certificate_type))


@admin_flow("admin-schedule-session", forget=("online_url",))
def schedule_session(
    case_ref: str,
    start: datetime,
    mediator_email: str,
    your_name: str,
    end: datetime | None = None,
    venue: str | None = None,
    online_url: str | None = None,
    short_notice_agreed: bool = False,
) -> dict:
    """Book a mediation meeting; invitations go to the family (from the case) and the mediator.

    Other attendees (supporter, LA officer, ICB) carry names and addresses, so they are added with
    `drs session schedule`, not from the dashboard.

    Args:
        case_ref: The case reference, e.g. DRS-2026-00042.
        start: When the meeting starts; without an offset it is UK time (Europe/London).
        mediator_email: The mediator's work address, as registered with `drs mediator add`.
        your_name: Your name — required; the audit trail records who did this.
        end: When it ends (default: 2 hours after the start).
        venue: The venue's name and address (a public place; no personal data).
        online_url: The link for an online meeting, instead of a venue.
        short_notice_agreed: The family agreed to less than 5 working days' notice.
    """
    from tasks.sessions.meetings import schedule_session as schedule

    now = form().now
    start, end = local(start), local(end)
    return schedule(
        case_ref.strip(),
        start=start,
        end=end,
        mediator_email=mediator_email.strip(),
        now=now,
        venue=venue,
        online_url=online_url,
        short_notice_agreed=short_notice_agreed,
        actor=ACTOR,
    ).as_dict()


@admin_flow("admin-reschedule-session")
def reschedule_session(
    session_id: int, start: datetime, your_name: str, end: datetime | None = None, short_notice_agreed: bool = False
) -> dict:
    """Move a mediation meeting; updated invitations go to everyone invited.

    Args:
        session_id: The meeting's number (shown by `drs session schedule` and on the Today screen).
        start: The new start; without an offset it is UK time (Europe/London).
        your_name: Your name — required; the audit trail records who did this.
        end: The new end (default: 2 hours after the start).
        short_notice_agreed: The family agreed to less than 5 working days' notice.
    """
    from tasks.sessions.meetings import reschedule_session as reschedule

    now = form().now
    start, end = local(start), local(end)
    return reschedule(
        session_id, start=start, end=end, now=now, short_notice_agreed=short_notice_agreed, actor=ACTOR
    ).as_dict()


@admin_flow("admin-cancel-session")
def cancel_session(session_id: int, your_name: str, cancelled_by: CancelledBy = CancelledBy.service) -> dict:
    """Cancel a mediation meeting; cancellations go to everyone invited.

    Args:
        session_id: The meeting's number.
        your_name: Your name — required; the audit trail records who did this.
        cancelled_by: Who called it off.
    """
    from tasks.sessions.meetings import cancel_session as cancel

    now = form().now
    return cancel(session_id, now=now, cancelled_by=value(cancelled_by), actor=ACTOR).as_dict()


@admin_flow("admin-record-outcome")
def record_outcome(
    session_id: int,
    result: SessionOutcome,
    on: date,
    your_name: str,
    agreement_items: list[AgreementItem] | None = None,
) -> dict:
    """Record how a mediation meeting ended (the after-mediation certificate clock starts).

    Args:
        session_id: The meeting's number.
        result: Agreed, partly agreed, or not agreed.
        on: The date the mediation concluded.
        your_name: Your name — required; the audit trail records who did this.
        agreement_items: For an agreed or partial outcome: what was agreed (starts the follow-up clocks).
    """
    from tasks.sessions.meetings import record_outcome as outcome

    now = form().now
    return outcome(
        session_id, result=value(result), on=on, now=now, items=[value(i) for i in agreement_items or ()], actor=ACTOR
    ).as_dict()


@admin_flow("admin-decide-claim", forget=("reason",))
def decide_claim(claim_id: str, decision: ClaimDecision, your_name: str, reason: str | None = None) -> dict:
    """Approve or refuse a held expense claim.

    Args:
        claim_id: The claim's id, e.g. TT-C-1042.
        decision: Approve (it joins the next batch to the LA) or refuse.
        your_name: Your name — required; the audit trail records who did this.
        reason: Why — required to refuse; the family reads it, so write no one's personal details.
    """
    from tasks.claims.claims_in import decide_held_claim

    now = form().now
    return decide_held_claim(
        claim_id.strip(),
        value(decision) == "approve",
        reason,
        now,
        decided_by=f"{form().operator} ({ACTOR})"[:64],
    )


# --- issue 15: contact problems (a bounced email) ---------------------------------------------------


@admin_flow("admin-correct-contact", forget=("email",))
def correct_contact(case_ref: str, email: str, your_name: str, role: ContactRole = ContactRole.family) -> dict:
    """Correct an address that bounced; the statutory emails that bounced are sent again to it.

    Args:
        case_ref: The case reference, e.g. DRS-2026-00042.
        email: The new, correct address (it replaces the old one on the case; audited).
        your_name: Your name — required; the audit trail records who did this.
        role: Whose address it is.
    """
    from tasks.bounces.contact_fix import correct_address

    now = form().now
    return correct_address(case_ref.strip(), email, role=value(role), now=now, actor=ACTOR).as_dict()


@admin_flow("admin-record-contact-reached", forget=("note",))
def record_contact_reached(
    case_ref: str,
    by: ReachedBy,
    on: date,
    your_name: str,
    note: str | None = None,
    role: ContactRole = ContactRole.family,
) -> dict:
    """Record that the family was told another way after an email bounced; closes the problem.

    Args:
        case_ref: The case reference, e.g. DRS-2026-00042.
        by: How they were told.
        on: The date they were told (never in the future).
        your_name: Your name — required; the audit trail records who did this.
        note: A short note (kept until the case's retention; write no one's personal details).
        role: Whose contact problem it closes.
    """
    from tasks.bounces.contact_fix import record_reached

    f = form()
    return record_reached(
        case_ref.strip(), by=value(by), on=on, note=note, role=value(role), now=f.now, today=f.today, actor=ACTOR
    ).as_dict()
