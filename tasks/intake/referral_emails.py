"""The emails a referral causes: the acknowledgement to whoever referred (held to the family's
quiet hours), the team's notice, and — when the family asks for mediation and consents — the
request to the LA's SEN team. Keys make each email once-only (`tasks.intake.records`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.db import Case
from models.domain.quiet_hours import family_not_before
from models.domain.referrals import ReferralForm
from tasks.intake import emails as templates
from tasks.mail.outbox import queue_email
from tasks.settings import get_settings

FLAG_NO_SEN_EMAIL = "la-has-no-sen-email"


def case_facts(case: Any, clocks: dict | None = None) -> templates.CaseFacts:
    """What the templates say about `case` (`clocks`: name → (due, state), default the case's rows)."""
    return templates.CaseFacts(
        ref=case.ref,
        service=case.service,
        la_name=case.local_authority.name,
        decision_type=case.decision_type,
        letter_sent_on=case.decision_letter_sent_on,
        received_on=case.received_on,
        wants_mediation=case.wants_mediation or "undecided",
        requester_role=case.requester_role or "",
        consent_to_contact_la=case.consent_to_contact_la,
        health_issues=case.health_issues,
        social_care_issues=case.social_care_issues,
        sections=tuple(case.sections or ()),
        flags=tuple(case.flags or ()),
        clocks={c.name: (c.due, c.state) for c in case.clocks} if clocks is None else clocks,
    )


def _wants_la(case: Any) -> bool:
    """Does the family ask for mediation and consent to the LA being told? (Flags an LA with no
    SEN team email for the team.)"""
    wants_la = case.service == "mediation" and case.wants_mediation == "yes" and case.consent_to_contact_la
    if wants_la and not case.local_authority.sen_team_email and FLAG_NO_SEN_EMAIL not in (case.flags or []):
        case.flags = [*(case.flags or []), FLAG_NO_SEN_EMAIL]
    return bool(wants_la)


def queue_referral_emails(
    db: Session, case: Case, form: ReferralForm, *, now: datetime, new: bool, clocks: dict | None = None
) -> list:
    """The outbox rows this referral causes (keys make every one of them once-only)."""
    queued = []
    for email in referral_emails(case, form, now=now, new=new, clocks=clocks):
        row = queue_email(db, now=now, **email)
        if row is not None:
            queued.append(row)
    return queued


def referral_emails(
    case: Any, form: ReferralForm, *, now: datetime, new: bool, clocks: dict | None = None
) -> list[dict]:
    """The emails this referral causes, in order, each as `queue_email`'s arguments (`key`, `kind`,
    `to`, `subject`, `text`, `html`, `case_id`, `not_before`). `case` is a `Case` or the batched
    intake's `NewCase` (same attributes); may flag it `la-has-no-sen-email`."""
    settings = get_settings()
    la = case.local_authority
    wants_la = _wants_la(case)
    facts = case_facts(case, clocks)
    emails: list[dict] = []

    def add(key: str, kind: str, to: str, content: tuple[str, str, str], not_before: datetime | None = None) -> None:
        subject, text, html = content
        emails.append(
            {"key": key, "kind": kind, "to": to, "subject": subject, "text": text, "html": html,
             "case_id": case.id, "not_before": not_before}
        )  # fmt: skip

    if new:
        add(
            f"ack:{case.ref}",
            "acknowledgement",
            case.requester_email or "",  # never empty at intake (validated); "" is refused by queue_email
            templates.acknowledgement(facts),
            not_before=family_not_before(now, ZoneInfo(settings.timezone)),  # families hear from us 08:00-20:00
        )
        add(f"team-new-case:{case.ref}", "team-new-case", settings.team_email, templates.team_new_case(facts))
    else:
        add(
            f"team-linked-referral:{form.form_id}",
            "team-linked-referral",
            settings.team_email,
            templates.team_new_case(facts, linked_form=form.form_id),
        )
    if wants_la and la.sen_team_email:
        add(
            f"la-request:{case.ref}",
            "la-mediation-request",
            la.sen_team_email,
            templates.la_mediation_request(
                facts,
                requester_name=case.requester_name or "",
                child_name=case.child_name or "",
                child_date_of_birth=case.child_date_of_birth,
            ),
        )
    return emails
