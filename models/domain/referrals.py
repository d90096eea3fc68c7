"""Validating one web-form referral (docs/formats.md "Referrals"): pure, stdlib only.

`flatten(record)` turns a JSON object (nested `requester`, `child`, `decision`) or a CSV/XLSX
row into the flat column names of the contract. `validate_referral(fields, now=..., tz=...,
la_known=...)` returns `(ReferralForm, [])` for an acceptable record, or `(None, problems)`
naming, in plain English, every hard problem found. Soft problems are accepted but carried on
`ReferralForm.flags` for the team (rules §2: contact deadline passed; section-I-only appeal).

Each `Problem` has a `text` for people (it may quote what the form said, so it belongs only in
the team's own outputs) and a value-free `reason` fit for dashboards and logs.
The clock is never read here: `today` is an argument. The rule for each field is in
`models.domain.referral_rules` (in the order problems are reported); reading values as dates,
moments, yes/no and sections in `models.domain.referral_values`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from models.domain.calendar import add_months
from models.domain.dates import parse_date, parse_moment
from models.domain.fields import email_problem, text_problem
from models.domain.referral_rules import FIELDS, LAW_IN_FORCE, LIMITS, MAX_AGE, Draft, Problem, draft_of
from models.domain.referral_values import age_on, as_text, parse_bool, parse_sections

__all__ = [
    "FIELDS",
    "LAW_IN_FORCE",
    "MAX_AGE",
    "Problem",
    "ReferralForm",
    "age_on",
    "flatten",
    "form_id_of",
    "looks_like_email",
    "parse_bool",
    "parse_date",
    "parse_moment",
    "parse_sections",
    "validate_referral",
]

_NESTED = {
    "requester": ("role", "name", "email", "phone", "postcode"),
    "child": ("name", "date_of_birth"),
    "decision": ("type", "letter_sent_on"),
}
_NESTED_TARGET = {("decision", "letter_sent_on"): "decision_letter_sent_on"}

CONTACT_MONTHS = 2  # reg 33: the family contacts the adviser within 2 months of the letter

FLAG_CONTACT_DEADLINE_PASSED = "contact-deadline-passed"
FLAG_NO_CERTIFICATE_NEEDED = "no-certificate-needed"
FLAG_REQUEST_WITHOUT_CONSENT = "mediation-requested-without-la-consent"


@dataclass(frozen=True)
class ReferralForm:
    """An acceptable referral, typed. `received_on` is the local date of `submitted_at`."""

    form_id: str
    submitted_at: datetime
    received_on: date
    service: str
    requester_role: str
    requester_name: str
    requester_email: str
    requester_phone: str | None
    requester_postcode: str | None
    child_name: str
    child_date_of_birth: date
    local_authority: str
    decision_type: str | None
    decision_letter_sent_on: date | None
    sections: tuple[str, ...]
    health_issues: bool
    social_care_issues: bool
    wants_mediation: str
    consent_to_contact_la: bool
    notes: str | None
    flags: tuple[str, ...]


def flatten(record: Mapping[Any, Any]) -> dict[str, Any]:
    """The record under the contract's flat column names (keys lower-cased and trimmed)."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        key = str(key).strip().lower() if key is not None else ""
        if key in _NESTED and isinstance(value, Mapping):
            inner = {str(k).strip().lower(): v for k, v in value.items()}
            for part in _NESTED[key]:
                if part in inner:
                    flat[_NESTED_TARGET.get((key, part), f"{key}_{part}")] = inner[part]
        elif key:
            flat[key] = value
    return flat


def form_id_of(fields: Mapping[str, Any]) -> str | None:
    """The record's `form_id` as stored (trimmed text; a spreadsheet's 48213.0 is "48213"); None when
    it is not acceptable text (an object, a list, control characters, too long)."""
    value = fields.get("form_id")
    if not isinstance(value, (int, float)) and text_problem(value, limit=LIMITS["form_id"]):
        return None
    return as_text(value) or None


def looks_like_email(value: str) -> bool:
    """The one email check (`models.domain.fields.email_problem`: email-validator, no network)."""
    return email_problem(value) is None


def validate_referral(
    fields: Mapping[str, Any],
    *,
    today: date,
    tz: tzinfo,
    la_known: Callable[[str], bool],
) -> tuple[ReferralForm | None, list[Problem]]:
    """Check one flattened record received by `today` (a local date: a submission dated after it
    is "in the future"); `tz` is the service's zone (for `submitted_at` without an offset and for
    the local date received); `la_known(text)` the register lookup (name, alias or ONS code).
    Returns the typed form, or None and the problems."""
    d = draft_of(fields, today=today, tz=tz, la_known=la_known)
    if d.problems:
        return None, d.problems
    assert d.submitted is not None and d.received_on is not None and d.born is not None  # no problems: all set
    return ReferralForm(
        form_id=d.text["form_id"],
        submitted_at=d.submitted,
        received_on=d.received_on,
        service=d.service,
        requester_role=d.role,
        requester_name=d.text["requester_name"],
        requester_email=d.text["requester_email"],
        requester_phone=d.text["requester_phone"] or None,
        requester_postcode=d.text["requester_postcode"].upper() or None,
        child_name=d.text["child_name"],
        child_date_of_birth=d.born,
        local_authority=d.text["local_authority"],
        decision_type=d.decision_type,
        decision_letter_sent_on=d.letter,
        sections=tuple(d.sections),
        health_issues=d.yes_no["health_issues"],
        social_care_issues=d.yes_no["social_care_issues"],
        wants_mediation=d.wants,
        consent_to_contact_la=d.yes_no["consent_to_contact_la"],
        notes=d.text["notes"] or None,
        flags=_flags(d),
    ), []


def _flags(d: Draft) -> tuple[str, ...]:
    """Soft problems, for the team: the contact deadline passed; a section-I-only appeal (no
    certificate needed); mediation asked for without consent to contact the LA."""
    flags = []
    received_on = d.received_on or d.today
    if d.service == "mediation" and d.letter is not None and received_on > add_months(d.letter, CONTACT_MONTHS):
        flags.append(FLAG_CONTACT_DEADLINE_PASSED)
    if d.service == "mediation" and d.decision_type == "plan_contents" and d.sections == ["I"]:
        flags.append(FLAG_NO_CERTIFICATE_NEEDED)
    if d.service == "mediation" and d.wants == "yes" and not d.yes_no["consent_to_contact_la"]:
        flags.append(FLAG_REQUEST_WITHOUT_CONSENT)
    return tuple(flags)
