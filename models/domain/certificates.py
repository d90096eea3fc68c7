"""Mediation certificates: which type a trigger gives, and what each means for the appeal deadline.

Pure wording and rules, no I/O. The PDF and the email are made in ``tasks.certificates.issue``.

Types (README.md "Deadlines, alerts and certificates"; docs/rules.md §2): ``declined`` — the family told the adviser it
does not want mediation (reg 34, CFA s.55(4); SECONDARY); ``withdrawn`` — the family withdrew
after asking for mediation (reg 34 heading, by analogy; UNVERIFIED); ``deemed`` — the LA said it
cannot arrange mediation within 30 days (regs 36-37 area; SECONDARY); ``after-mediation`` —
mediation has concluded (CFA s.55(5), reg 39; SECONDARY).

Appeal deadline (HESC rules 20 and 12, VERIFIED; §3): the later of two months after the LA's
decision letter and one month after the certificate, moved out of the Christmas and August
windows and off non-working days. The deadline itself is computed by the clock engine; here it
is only explained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "CERTIFICATE_TRIGGERS",
    "AUTOMATIC_TYPES",
    "CertificateWording",
    "TriggerEvent",
    "certificate_number",
    "latest_trigger",
    "wording",
]

#: trigger event -> certificate type
CERTIFICATE_TRIGGERS = {
    "mediation-declined": "declined",
    "withdrawn": "withdrawn",
    "la-cannot-arrange": "deemed",
    "mediation-concluded": "after-mediation",
}
TRIGGER_FOR_TYPE = {v: k for k, v in CERTIFICATE_TRIGGERS.items()}

#: Types the monitor issues by itself (the family declined): the others need a person's check.
AUTOMATIC_TYPES = frozenset({"declined"})

DECISIONS = {
    "refuse_assessment": "not to carry out an EHC needs assessment",
    "refuse_plan": "not to issue an EHC plan",
    "plan_contents": "about the contents of the EHC plan",
    "refuse_reassessment": "not to carry out a re-assessment",
    "refuse_amend": "not to amend the EHC plan",
    "cease_plan": "to cease to maintain the EHC plan",
}

_TITLES = {
    "declined": "Certificate: the family decided not to pursue mediation",
    "withdrawn": "Certificate: the family withdrew from mediation",
    "deemed": "Certificate: mediation could not be arranged in time",
    "after-mediation": "Certificate: mediation has taken place",
}

_STATEMENTS = {
    "declined": (
        "The parent or young person received information about mediation from the mediation "
        "adviser and told the adviser on {trigger} that they do not wish to pursue mediation."
    ),
    "withdrawn": (
        "The parent or young person asked for mediation and then told the mediation adviser on "
        "{trigger} that they no longer wish to pursue it."
    ),
    "deemed": (
        "The local authority told the mediation adviser on {trigger} that it cannot arrange mediation "
        "within 30 days of receiving the request."
    ),
    "after-mediation": "Mediation about this decision took place and concluded on {trigger}.",
}

_SOURCES = {
    "declined": "Children and Families Act 2014 s.55(4); SEND Regulations 2014 reg 34",
    "withdrawn": "SEND Regulations 2014 reg 34 (withdrawal after a request)",
    "deemed": "SEND Regulations 2014 regs 36-37",
    "after-mediation": "Children and Families Act 2014 s.55(5); SEND Regulations 2014 reg 39",
}


@dataclass(frozen=True)
class TriggerEvent:
    name: str
    on: date


@dataclass(frozen=True)
class CertificateWording:
    title: str
    statement: str
    appeal_meaning: str
    legal_basis: str
    decision: str


def latest_trigger(events: list[TriggerEvent], cert_type: str | None = None) -> TriggerEvent | None:
    """The latest event that gives a certificate (of ``cert_type`` when given), or None.

    A ``withdrawn`` event counts only after a ``mediation-requested`` one (before a request there
    is nothing to withdraw from). ``events`` need not be sorted.
    """
    ordered = sorted(events, key=lambda e: e.on)
    requested = next((e.on for e in ordered if e.name == "mediation-requested"), None)
    found = None
    for e in ordered:
        if e.name not in CERTIFICATE_TRIGGERS:
            continue
        if e.name == "withdrawn" and (requested is None or e.on < requested):
            continue
        if cert_type is None or CERTIFICATE_TRIGGERS[e.name] == cert_type:
            found = e
    return found


def certificate_number(year: int, serial: int) -> str:
    """``MC-YYYY-NNNNN``: the certificate's number, by year of issue."""
    return f"MC-{year}-{serial:05d}"


def _long(d: date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def wording(
    cert_type: str,
    *,
    trigger_on: date,
    issued_on: date,
    decision_type: str | None,
    letter_sent_on: date | None,
    appeal_deadline: date | None,
) -> CertificateWording:
    """What the certificate says: its title, the statement of what happened, and what it means for
    the appeal deadline (HESC r.20: the later of letter + 2 months and certificate + 1 month)."""
    if cert_type not in _TITLES:
        raise ValueError(f"unknown certificate type {cert_type!r}")
    decision = DECISIONS.get(decision_type or "", "about special educational provision")
    letter = f" in its letter of {_long(letter_sent_on)}" if letter_sent_on else ""
    if appeal_deadline is not None:
        meaning = (
            f"You may now appeal to the First-tier Tribunal (Special Educational Needs and Disability) about "
            f"this decision. Your appeal must reach the Tribunal by {_long(appeal_deadline)}. That is the later "
            f"of two months after the local authority's decision letter and one month after the date of this "
            f"certificate ({_long(issued_on)}), moved to the next working day, or to after the Christmas or "
            f"August period when it would fall in one. Send a copy of this certificate with your appeal."
        )
    else:
        meaning = (
            "You may now appeal to the First-tier Tribunal (Special Educational Needs and Disability). "
            "Your appeal must be made within one month of the date of this certificate or two months of "
            "the local authority's decision letter, whichever is later. Send a copy of this certificate "
            "with your appeal."
        )
    return CertificateWording(
        title=_TITLES[cert_type],
        statement=_STATEMENTS[cert_type].format(trigger=_long(trigger_on)),
        appeal_meaning=meaning,
        legal_basis=_SOURCES[cert_type],
        decision=f"The local authority decided{letter} {decision}.",
    )
