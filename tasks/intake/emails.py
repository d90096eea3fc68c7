"""The emails a new referral causes: acknowledgement to the family, notice to the team, and the
family's request for mediation to the LA's SEN team (only with the family's consent).

Each function returns `(subject, text, html)`. Subjects carry the case reference only — never
a child's name or anything special-category. Bodies use `email_layout.render_email`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from models.domain.clock_labels import clock_title
from tasks.mail.layout import long_date, render_email

DECISIONS = {
    "refuse_assessment": "not to carry out an EHC needs assessment",
    "refuse_plan": "not to issue an EHC plan",
    "plan_contents": "about what the EHC plan says",
    "refuse_reassessment": "not to carry out a re-assessment",
    "refuse_amend": "not to amend the EHC plan",
    "cease_plan": "to stop maintaining the EHC plan",
}
FLAG_TEXT = {
    "contact-deadline-passed": "The decision letter is more than two months old: the family's time to contact us has passed.",
    "no-certificate-needed": "Section I only (school or placement): no mediation certificate is needed to appeal.",
    "mediation-requested-without-la-consent": "The family asked for mediation but did not consent to us contacting the LA: "
    "speak to the family before passing the request on.",
    "la-has-no-sen-email": "The LA has no SEN team email in the register: pass the request on by hand.",
    "possible-duplicate": "Another case has the same child, local authority and decision letter: check whether "
    "this referral repeats it before contacting the family twice.",
}


@dataclass(frozen=True)
class CaseFacts:
    """What the intake emails say about a case (plain values, read from the committed rows)."""

    ref: str
    service: str
    la_name: str
    decision_type: str | None
    letter_sent_on: date | None
    received_on: date
    wants_mediation: str
    requester_role: str
    consent_to_contact_la: bool
    health_issues: bool
    social_care_issues: bool
    sections: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    clocks: dict[str, tuple[date, str]] = field(default_factory=dict)  # name -> (due, state)


def _due(facts: CaseFacts, name: str) -> date | None:
    clock = facts.clocks.get(name)
    if clock is None or clock[1] == "not_applicable":
        return None
    return clock[0]


def _decision(facts: CaseFacts) -> str:
    words = DECISIONS.get(facts.decision_type or "", "")
    if facts.letter_sent_on and words:
        return f"the local authority's decision {words}, in its letter of {long_date(facts.letter_sent_on)}"
    return "your disagreement with the local authority"


def acknowledgement(facts: CaseFacts) -> tuple[str, str, str]:
    """To the person who made the referral: received, what mediation is, key dates, what next."""
    subject = f"We have received your referral ({facts.ref})"
    if facts.service == "drs":
        text, html = render_email("We have received your referral", _drs_acknowledgement(facts))
        return subject, text, html
    paras: list = [
        f"Thank you for contacting us about {_decision(facts)}. We received your referral on "
        f"{long_date(facts.received_on)}. Your reference is {facts.ref}: please quote it if you contact us.",
        "Mediation is a meeting, led by a trained and independent mediator, where you and the local "
        "authority talk about the disagreement and try to agree what happens next. The mediator does "
        "not take sides or make decisions. Mediation is free to parents, carers and young people, and "
        "you may be able to claim back travel costs from the local authority.",
        "Before you can appeal to the SEND Tribunal you need a mediation certificate from us. It shows "
        "you have considered mediation; you do not have to take part in mediation to get one.",
    ]
    if "no-certificate-needed" in facts.flags:
        paras.append(
            "Your disagreement is only about the school or placement named in section I of the "
            "plan, so you can appeal without a certificate. Mediation is still available if you want it."
        )
    paras += ["What happens next:", _next_steps(facts)]
    if "contact-deadline-passed" in facts.flags:
        paras.append(
            "The decision letter is more than two months old. Please contact us as soon as you "
            "can: an adviser will talk to you about your options."
        )
    text, html = render_email("We have received your referral", paras, key_dates=_key_dates(facts))
    return subject, text, html


def _drs_acknowledgement(facts: CaseFacts) -> list:
    """The acknowledgement's paragraphs for disagreement resolution (no certificate, no clocks)."""
    return [
        f"Thank you for contacting us. We received your referral on {long_date(facts.received_on)}. "
        f"Your reference is {facts.ref}: please quote it if you contact us.",
        "Disagreement resolution is a free, confidential meeting that helps families, schools, "
        "colleges and local authorities settle disagreements about special educational needs and "
        "disability (SEND) provision. A trained, independent facilitator helps everyone talk and "
        "look for an answer together. Taking part is voluntary for everyone.",
        "What happens next:",
        [
            "An adviser will phone or email you within 2 working days to talk it through.",
            "If everyone agrees to take part, we will arrange a meeting at a neutral place.",
            "Disagreement resolution does not affect any right you have to appeal.",
        ],
    ]


def _key_dates(facts: CaseFacts) -> list[tuple[str, str]]:
    dates = []
    cert_due = _due(facts, "certificate_due")
    appeal = _due(facts, "appeal_deadline")
    if facts.letter_sent_on:
        dates.append(("The local authority's decision letter", long_date(facts.letter_sent_on)))
    if cert_due:
        dates.append(("We will send your mediation certificate by", long_date(cert_due)))
    if appeal:
        dates.append(
            ("Latest date to appeal to the tribunal (may move later once a certificate is issued)", long_date(appeal))
        )
    return dates


def _next_steps(facts: CaseFacts) -> list[str]:
    """What happens next, by what the family told us about mediation."""
    if facts.wants_mediation == "no" and "no-certificate-needed" in facts.flags:
        return [
            "You told us you do not want mediation. An adviser will contact you within 2 working days "
            "to confirm what you need for your appeal.",
            "You can still change your mind and ask for mediation.",
        ]
    if facts.wants_mediation == "no":
        return [
            "You told us you do not want mediation. We will send your certificate by the date below.",
            "You can still change your mind and ask for mediation.",
        ]
    if facts.wants_mediation == "yes":
        return [
            "You told us you would like mediation. An adviser will contact you within 2 working days.",
            (
                "With your permission we will tell the local authority, which must arrange mediation "
                "within 30 days of hearing from us."
                if facts.consent_to_contact_la
                else "We need your permission to contact the local authority: an adviser will ask you about this."
            ),
        ]
    return [
        "An adviser will phone or email you within 2 working days to explain mediation and "
        "help you decide whether you want it.",
        "Whatever you decide, you will get a certificate if you need one to appeal.",
    ]


def team_new_case(facts: CaseFacts, *, linked_form: str | None = None) -> tuple[str, str, str]:
    """To the team: a new case (or a second referral joining `facts.ref`). References and codes only."""
    if linked_form:
        subject = f"Second referral linked to {facts.ref}"
        heading = f"Second referral for {facts.ref}"
        intro = (
            f"Form {linked_form} is for the same child, local authority and decision letter as "
            f"{facts.ref}, so it was linked to that case instead of opening a new one."
        )
    else:
        subject = f"New referral: {facts.ref} ({facts.la_name})"
        heading = f"New referral {facts.ref}"
        intro = f"A new {facts.service} case {facts.ref} was opened from the web form."
    details = [
        f"Local authority: {facts.la_name}",
        f"Service: {facts.service}",
        f"Decision: {facts.decision_type or 'none given'}"
        + (f", letter of {long_date(facts.letter_sent_on)}" if facts.letter_sent_on else ""),
        f"Received: {long_date(facts.received_on)}",
        f"Referred by: {facts.requester_role.replace('_', ' ')}",
        f"Wants mediation: {facts.wants_mediation}; consent to contact the LA: "
        f"{'yes' if facts.consent_to_contact_la else 'no'}",
    ]
    if facts.sections:
        details.append(f"Sections disputed: {', '.join(facts.sections)}")
    if facts.health_issues or facts.social_care_issues:
        details.append(
            "Includes: "
            + " and ".join(
                w for w, on in (("health care", facts.health_issues), ("social care", facts.social_care_issues)) if on
            )
        )
    paras: list = [intro, details]
    flags = [FLAG_TEXT.get(f, f) for f in facts.flags]
    if flags:
        paras += ["Please check:", flags]
    paras.append(f"Details: drs case show {facts.ref}")
    dates = [
        (clock_title(name), long_date(due))
        for name, (due, state) in sorted(facts.clocks.items(), key=lambda kv: kv[1][0])
        if state == "open"
    ]
    text, html = render_email(heading, paras, greeting=None, key_dates=dates, footer=None)
    return subject, text, html


def la_mediation_request(
    facts: CaseFacts, *, requester_name: str, child_name: str, child_date_of_birth: date
) -> tuple[str, str, str]:
    """To the LA's SEN team: the family asks for mediation (sent only with the family's consent)."""
    subject = f"Request for mediation: {facts.ref}"
    paras: list = [
        f"A family has asked for mediation about {_decision(facts)}. They consented to us telling you.",
        [
            f"Our reference: {facts.ref}",
            f"Family contact: {requester_name}",
            f"Child or young person: {child_name}, born {long_date(child_date_of_birth)}",
            f"Request received by us: {long_date(facts.received_on)}",
        ],
        "Under section 53 of the Children and Families Act 2014 the local authority must arrange "
        "mediation within 30 days of receiving this request."
        + (
            " The issues include health care, so please tell the integrated care board within 3 working days."
            if facts.health_issues
            else ""
        ),
        f"Please reply to confirm the date you received this request, quoting {facts.ref}.",
    ]
    text, html = render_email("Request for mediation", paras)
    return subject, text, html
