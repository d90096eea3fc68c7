"""Admin actions as deployments: an admin does them from the dashboard's Run form.

Each flow has typed parameters — enums (dropdowns), dates and date-times (pickers), and a
description on every field — that carry case references, ids and codes only, never names, email
addresses or dates of birth. Each calls the same plain function as the matching `drs` command,
so a change made from the dashboard is the same change, audited the same way (`recorded_by` =
`dashboard`; every form asks for "your name", recorded as the audit line's operator). A refused
action fails its run with the reason (case reference only), shown in the dashboard, and one line
in the log — no traceback (`refusal_fails_run`); a database error is said plainly, never with its
SQL; only a crash emails the team. A date-time without an offset is UK time, as on the command line.

Deployments (no schedule; see flows/deployments.py): admin-record-case-event,
admin-issue-certificate, admin-schedule-session, admin-reschedule-session, admin-cancel-session,
admin-record-outcome, admin-decide-claim; admin-correct-contact, admin-record-contact-reached (issue 15).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from prefect import flow

from flows.hooks import notify_team_of_failure, refusal_fails_run
from models.domain.vocabulary import AGREEMENT_ITEMS, CERTIFICATE_TYPES, EVENTS, OUTCOMES
from tasks.privacy.audit_trail import require_operator
from tasks.timekeeping import resolve_now

ACTOR = "dashboard"

CaseEventCode = Enum("CaseEventCode", {e.replace("-", "_"): e for e in EVENTS}, type=str, module=__name__)
CertificateType = Enum(
    "CertificateType", {c.replace("-", "_"): c for c in CERTIFICATE_TYPES}, type=str, module=__name__
)
AgreementItem = Enum("AgreementItem", {i.replace("-", "_"): i for i in AGREEMENT_ITEMS}, type=str, module=__name__)
SessionOutcome = Enum("SessionOutcome", {o.replace("-", "_"): o for o in OUTCOMES}, type=str, module=__name__)


class CancelledBy(str, Enum):
    family = "family"
    la = "la"
    service = "service"
    icb = "icb"


class ClaimDecision(str, Enum):
    approve = "approve"
    refuse = "refuse"


def _hooks() -> dict:
    # A refused action (unknown reference, a date in the future) fails the run, which the admin who
    # pressed Run sees at once: no team email for that. A crash is still reported to the team.
    return {"on_crashed": [notify_team_of_failure]}


def _value(v):
    return v.value if isinstance(v, Enum) else v


@flow(name="admin-record-case-event", **_hooks())
@refusal_fails_run
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
    require_operator(your_name)
    from tasks.cases.casework import get_case, record_event

    today, now = resolve_now(None, None)
    with _uow() as db:
        case = get_case(db, case_ref.strip(), for_update=True)
        record_event(
            db,
            case,
            _value(event),
            on,
            now=now,
            today=today,
            recorded_by=ACTOR,
            health=health,
            cert_type=_value(certificate_type),
            items=[_value(i) for i in agreement_items or ()],
        )
        db.commit()
        return {"case_ref": case.ref, "event": _value(event), "on": on.isoformat(), "status": case.status}


@flow(name="admin-issue-certificate", **_hooks())
@refusal_fails_run
def issue_certificate(case_ref: str, on: date, your_name: str, certificate_type: CertificateType | None = None) -> dict:
    """Issue a mediation certificate: the PDF, and the email to the family through the outbox.

    Args:
        case_ref: The case reference, e.g. DRS-2026-00042.
        on: The issue date.
        your_name: Your name — required; the audit trail records who did this.
        certificate_type: Which certificate (default: the one the case's events call for).
    """
    require_operator(your_name)
    from tasks.certificates.issue import issue_certificate as issue

    today, now = resolve_now(None, None)
    return issue(case_ref.strip(), on, today=today, now=now, actor=ACTOR, cert_type=_value(certificate_type))


@flow(name="admin-schedule-session", **_hooks())
@refusal_fails_run
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
    from flows.forget_parameters import forget_parameters

    forget_parameters("online_url")  # qa-15-17: retention clears the link; Prefect's copy too
    require_operator(your_name)
    from tasks.sessions.meetings import schedule_session as schedule

    _, now = resolve_now(None, None)
    start, end = _local(start), _local(end)
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


@flow(name="admin-reschedule-session", **_hooks())
@refusal_fails_run
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
    require_operator(your_name)
    from tasks.sessions.meetings import reschedule_session as reschedule

    _, now = resolve_now(None, None)
    start, end = _local(start), _local(end)
    return reschedule(
        session_id, start=start, end=end, now=now, short_notice_agreed=short_notice_agreed, actor=ACTOR
    ).as_dict()


@flow(name="admin-cancel-session", **_hooks())
@refusal_fails_run
def cancel_session(session_id: int, your_name: str, cancelled_by: CancelledBy = CancelledBy.service) -> dict:
    """Cancel a mediation meeting; cancellations go to everyone invited.

    Args:
        session_id: The meeting's number.
        your_name: Your name — required; the audit trail records who did this.
        cancelled_by: Who called it off.
    """
    require_operator(your_name)
    from tasks.sessions.meetings import cancel_session as cancel

    _, now = resolve_now(None, None)
    return cancel(session_id, now=now, cancelled_by=_value(cancelled_by), actor=ACTOR).as_dict()


@flow(name="admin-record-outcome", **_hooks())
@refusal_fails_run
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
    require_operator(your_name)
    from tasks.sessions.meetings import record_outcome as outcome

    _, now = resolve_now(None, None)
    return outcome(
        session_id, result=_value(result), on=on, now=now, items=[_value(i) for i in agreement_items or ()], actor=ACTOR
    ).as_dict()


@flow(name="admin-decide-claim", **_hooks())
@refusal_fails_run
def decide_claim(claim_id: str, decision: ClaimDecision, your_name: str, reason: str | None = None) -> dict:
    """Approve or refuse a held expense claim.

    Args:
        claim_id: The claim's id, e.g. TT-C-1042.
        decision: Approve (it joins the next batch to the LA) or refuse.
        your_name: Your name — required; the audit trail records who did this.
        reason: Why — required to refuse; the family reads it, so write no one's personal details.
    """
    from flows.forget_parameters import forget_parameters

    forget_parameters("reason")  # qa-15-17: retention clears the reason; Prefect's copy too
    require_operator(your_name)
    from tasks.claims.claims_in import decide_held_claim

    _, now = resolve_now(None, None)
    return decide_held_claim(
        claim_id.strip(),
        _value(decision) == "approve",
        reason,
        now,
        decided_by=f"{require_operator(your_name)} ({ACTOR})"[:64],
    )


def _local(moment: datetime | None) -> datetime | None:
    """A date-time without an offset is the service's local time (`DRS_TIMEZONE`, Europe/London),
    the same rule as `drs session schedule --start`."""
    from models.domain.dates import as_local
    from tasks.timekeeping import local_tz

    return None if moment is None else as_local(moment, local_tz())


def _uow():
    from tasks.db import unit_of_work

    return unit_of_work()


# --- issue 15: contact problems (a bounced email) ---------------------------------------------------


class ContactRole(str, Enum):
    family = "family"
    supporter = "supporter"
    icb = "icb"
    mediator = "mediator"
    other = "other"


class ReachedBy(str, Enum):
    phone = "phone"
    letter = "letter"


@flow(name="admin-correct-contact", **_hooks())
@refusal_fails_run
def correct_contact(case_ref: str, email: str, your_name: str, role: ContactRole = ContactRole.family) -> dict:
    """Correct an address that bounced; the statutory emails that bounced are sent again to it.

    Args:
        case_ref: The case reference, e.g. DRS-2026-00042.
        email: The new, correct address (it replaces the old one on the case; audited).
        your_name: Your name — required; the audit trail records who did this.
        role: Whose address it is.
    """
    from flows.forget_parameters import forget_parameters
    from tasks.bounces.contact_fix import correct_address

    forget_parameters("email")  # qa-15-17: the family's address is not kept in Prefect's database
    require_operator(your_name)
    _, now = resolve_now(None, None)
    return correct_address(case_ref.strip(), email, role=_value(role), now=now, actor=ACTOR).as_dict()


@flow(name="admin-record-contact-reached", **_hooks())
@refusal_fails_run
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
    from flows.forget_parameters import forget_parameters
    from tasks.bounces.contact_fix import record_reached

    forget_parameters("note")  # qa-15-17: free text is not kept in Prefect's database
    require_operator(your_name)
    today, now = resolve_now(None, None)
    return record_reached(
        case_ref.strip(), by=_value(by), on=on, note=note, role=_value(role), now=now, today=today, actor=ACTOR
    ).as_dict()
