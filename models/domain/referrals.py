"""Validating one web-form referral (docs/formats.md "Referrals"): pure, stdlib only.

`flatten(record)` turns a JSON object (nested `requester`, `child`, `decision`) or a CSV/XLSX
row into the flat column names of the contract. `validate_referral(fields, now=..., tz=...,
la_known=...)` returns `(ReferralForm, [])` for an acceptable record, or `(None, problems)`
naming, in plain English, every hard problem found. Soft problems are accepted but carried on
`ReferralForm.flags` for the team (rules §2: contact deadline passed; section-I-only appeal).

Each `Problem` has a `text` for people (it may quote what the form said, so it belongs only in
the team's own outputs) and a value-free `reason` fit for dashboards and logs.
The clock is never read here: `today` is an argument.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from models.domain.calendar import add_months
from models.domain.dates import parse_date, parse_moment  # noqa: F401 — THE date reader; re-exported
from models.domain.fields import NAME_MAX, NOTE_MAX, date_problem, email_problem, identifier_problem, text_problem
from models.domain.vocabulary import DECISION_TYPES, REQUESTER_ROLES, SECTIONS, SERVICES, WANTS_MEDIATION

FIELDS = (
    "form_id",
    "submitted_at",
    "service",
    "requester_role",
    "requester_name",
    "requester_email",
    "requester_phone",
    "requester_postcode",
    "child_name",
    "child_date_of_birth",
    "local_authority",
    "decision_type",
    "decision_letter_sent_on",
    "sections",
    "health_issues",
    "social_care_issues",
    "wants_mediation",
    "consent_to_contact_la",
    "notes",
)
_NESTED = {
    "requester": ("role", "name", "email", "phone", "postcode"),
    "child": ("name", "date_of_birth"),
    "decision": ("type", "letter_sent_on"),
}
_NESTED_TARGET = {("decision", "letter_sent_on"): "decision_letter_sent_on"}

MAX_AGE = 25  # the service is for 0-25 year olds (service.md)
LAW_IN_FORCE = date(2014, 9, 1)  # SEND Regulations 2014: no earlier decision is in scope
CONTACT_MONTHS = 2  # reg 33: the family contacts the adviser within 2 months of the letter

FLAG_CONTACT_DEADLINE_PASSED = "contact-deadline-passed"
FLAG_NO_CERTIFICATE_NEEDED = "no-certificate-needed"
FLAG_REQUEST_WITHOUT_CONSENT = "mediation-requested-without-la-consent"

_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}
_LIMITS = {
    "form_id": 64,
    "requester_name": NAME_MAX,
    "requester_email": 254,
    "requester_phone": 40,
    "requester_postcode": 12,
    "child_name": NAME_MAX,
    "local_authority": 120,
}
#: every field but `notes` (multi-line) and `sections` (a list or text) is one line of text
_TEXT_LIMIT = {"notes": NOTE_MAX}
_LABELS = {
    "form_id": "form_id",
    "submitted_at": "submitted_at",
    "service": "service",
    "requester_role": "requester role",
    "requester_name": "requester name",
    "requester_email": "requester email",
    "requester_phone": "requester phone",
    "requester_postcode": "requester postcode",
    "child_name": "child's name",
    "child_date_of_birth": "child's date of birth",
    "local_authority": "local authority",
    "decision_type": "decision type",
    "decision_letter_sent_on": "decision letter date",
    "sections": "sections",
    "health_issues": "health_issues",
    "social_care_issues": "social_care_issues",
    "wants_mediation": "wants_mediation",
    "consent_to_contact_la": "consent_to_contact_la",
}


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field: `reason` is value-free, `text` is for the team."""

    field: str
    reason: str
    text: str

    @property
    def summary(self) -> str:
        """The value-free problem, e.g. "requester email does not look like an email address"."""
        return f"{_LABELS.get(self.field, self.field)} {self.reason}"


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


def flatten(record: Mapping) -> dict:
    """The record under the contract's flat column names (keys lower-cased and trimmed)."""
    flat: dict = {}
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


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def form_id_of(fields: Mapping) -> str | None:
    """The record's `form_id` as stored (trimmed text; a spreadsheet's 48213.0 is "48213"); None when
    it is not acceptable text (an object, a list, control characters, too long)."""
    value = fields.get("form_id")
    if not isinstance(value, (int, float)) and text_problem(value, limit=_LIMITS["form_id"]):
        return None
    return _text(value) or None


def _local_day(moment: datetime, tz: tzinfo) -> date | None:
    """The local date of `moment`, or None when it cannot be one (a year 1 or 9999 with an offset)."""
    try:
        return moment.astimezone(tz).date()
    except (OverflowError, ValueError):
        return None


def parse_bool(value) -> bool | None:
    """True/False from yes/no, true/false, y/n, 1/0 (blank is False); None when unrecognised."""
    if isinstance(value, bool):
        return value
    raw = _text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    return None


def parse_sections(value) -> tuple[list[str], list[str]]:
    """(sections, unknown items) from a list or a `B;F;I` string (commas and spaces allowed)."""
    items = value if isinstance(value, (list, tuple)) else re.split(r"[;,\s]+", _text(value))
    found, unknown = [], []
    for item in (_text(i).upper() for i in items):
        if not item:
            continue
        item = item.removeprefix("SECTION").strip()
        if not item:
            continue
        (found if item in SECTIONS else unknown).append(item)
    return sorted(set(found)), unknown


def age_on(born: date, on: date) -> int:
    """Whole years of age on `on`."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def looks_like_email(value: str) -> bool:
    """The one email check (`models.domain.fields.email_problem`: email-validator, no network)."""
    return email_problem(value) is None


class _Check:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.refused: set[str] = set()  # fields already refused as text: no second problem for them

    def add(self, field: str, reason: str, text: str | None = None) -> None:
        if field in self.refused:
            return
        self.problems.append(Problem(field, reason, text or f"{_LABELS.get(field, field)} {reason}"))

    def refuse(self, field: str, reason: str) -> None:
        self.add(field, reason)
        self.refused.add(field)


def _sections_problem(value) -> str | None:
    if isinstance(value, (list, tuple)):
        for item in value:
            problem = text_problem(item, limit=20)
            if problem:
                return "is not a list of section letters"
        return None
    return text_problem(value, limit=200)


def validate_referral(
    fields: Mapping,
    *,
    today: date,
    tz: tzinfo,
    la_known: Callable[[str], bool],
) -> tuple[ReferralForm | None, list[Problem]]:
    """Check one flattened record received by `today` (a local date: a submission dated after it
    is "in the future"); `tz` is the service's zone (for `submitted_at` without an offset and for
    the local date received); `la_known(text)` the register lookup (name, alias or ONS code).
    Returns the typed form, or None and the problems."""
    c = _Check()
    get = {k: fields.get(k) for k in FIELDS}
    for field in FIELDS:  # text first: an object, a list, NUL or a control character is refused as such
        value = get[field]
        if isinstance(value, (date, datetime, bool, int, float)):
            continue
        problem = (
            _sections_problem(value)
            if field == "sections"
            else text_problem(value, limit=_TEXT_LIMIT.get(field, 10 * NAME_MAX), single_line=field != "notes")
        )
        if problem:
            c.refuse(field, problem)
            get[field] = None
    text = {k: _text(v) for k, v in get.items() if k not in ("sections",)}
    for field, limit in _LIMITS.items():
        if len(text[field]) > limit:
            c.add(field, f"is too long (at most {limit} characters)")

    form_id = text["form_id"]
    if not form_id:
        c.add("form_id", "is missing")
    elif identifier_problem(form_id):
        c.add("form_id", identifier_problem(form_id))

    submitted = parse_moment(get["submitted_at"], tz)
    received_on = today
    if not text["submitted_at"]:
        c.add("submitted_at", "is missing")
    elif submitted is None:
        c.add(
            "submitted_at",
            "is not a date and time",
            f"submitted_at {text['submitted_at']!r} is not a date and time (use e.g. 2026-11-20T14:03:00Z)",
        )
    elif _local_day(submitted, tz) is None or date_problem(_local_day(submitted, tz)):
        c.add("submitted_at", date_problem(_local_day(submitted, tz)) or "is not a date and time")
    elif _local_day(submitted, tz) > today:
        c.add("submitted_at", "is in the future")
    else:
        received_on = _local_day(submitted, tz)

    service = text["service"].lower() or "mediation"
    if service not in SERVICES:
        c.add("service", "is not mediation or drs", f"service {text['service']!r} is not mediation or drs")

    role = text["requester_role"].lower().replace(" ", "_").replace("-", "_")
    if not role:
        c.add("requester_role", "is missing")
    elif role not in REQUESTER_ROLES:
        c.add(
            "requester_role",
            "is not a known role",
            f"requester role {text['requester_role']!r} is not one of: {', '.join(REQUESTER_ROLES)}",
        )
    if not text["requester_name"]:
        c.add("requester_name", "is missing")
    email = text["requester_email"]
    if not email:
        c.add("requester_email", "is missing")
    elif not looks_like_email(email):
        c.add("requester_email", "does not look like an email address")
    if not text["child_name"]:
        c.add("child_name", "is missing")

    born = parse_date(get["child_date_of_birth"])
    if not text["child_date_of_birth"]:
        c.add("child_date_of_birth", "is missing")
    elif born is None:
        c.add("child_date_of_birth", "is not a date (use YYYY-MM-DD)")
    elif born > received_on:
        c.add("child_date_of_birth", "is in the future")
    elif age_on(born, received_on) > MAX_AGE:
        c.add(
            "child_date_of_birth",
            "is outside the service's age range",
            f"the child or young person is {age_on(born, received_on)} on the date received; "
            f"the service is for ages 0 to {MAX_AGE}",
        )

    la_text = text["local_authority"]
    if not la_text:
        c.add("local_authority", "is missing")
    elif not la_known(la_text):
        c.add(
            "local_authority",
            "is not in the register",
            f"local authority {la_text!r} is not in the register (use its name or ONS code)",
        )

    decision_type = text["decision_type"].lower() or None
    letter = parse_date(get["decision_letter_sent_on"])
    if decision_type is None and service == "mediation":
        c.add("decision_type", "is missing", "decision type is missing (mediation needs the LA's decision)")
    elif decision_type is not None and decision_type not in DECISION_TYPES:
        c.add(
            "decision_type",
            "is not a known decision type",
            f"decision type {text['decision_type']!r} is not one of: {', '.join(DECISION_TYPES)}",
        )
    if not text["decision_letter_sent_on"]:
        if service == "mediation":
            c.add("decision_letter_sent_on", "is missing")
    elif letter is None:
        c.add("decision_letter_sent_on", "is not a date (use YYYY-MM-DD)")
    elif letter > received_on:
        c.add("decision_letter_sent_on", "is after the referral was submitted")
    elif letter < LAW_IN_FORCE:
        c.add("decision_letter_sent_on", "is before the SEND Regulations 2014 came into force")

    sections, unknown = parse_sections(get["sections"])
    if unknown:
        c.add("sections", "has unknown sections", f"sections {', '.join(unknown)} unknown (use B, F and I)")
    if decision_type != "plan_contents":
        sections = []
    elif not sections and not unknown:
        c.add("sections", "is missing", "sections are missing: a plan_contents dispute names B, F and/or I")

    flags_in: dict[str, bool] = {}
    for field in ("health_issues", "social_care_issues", "consent_to_contact_la"):
        value = parse_bool(get[field])
        if value is None:
            c.add(field, "is not yes or no", f"{field} {text[field]!r} is not yes or no")
        flags_in[field] = bool(value)

    wants = text["wants_mediation"].lower() or "undecided"
    if wants not in WANTS_MEDIATION:
        c.add(
            "wants_mediation",
            "is not yes, no or undecided",
            f"wants_mediation {text['wants_mediation']!r} is not yes, no or undecided",
        )
    if role == "professional" and not flags_in["consent_to_contact_la"]:
        c.add(
            "consent_to_contact_la",
            "is needed for a referral from a professional",
            "a referral from a professional needs the family's consent recorded (consent_to_contact_la: yes)",
        )

    if c.problems:
        return None, c.problems

    flags = []
    if service == "mediation" and letter is not None and received_on > add_months(letter, CONTACT_MONTHS):
        flags.append(FLAG_CONTACT_DEADLINE_PASSED)
    if service == "mediation" and decision_type == "plan_contents" and sections == ["I"]:
        flags.append(FLAG_NO_CERTIFICATE_NEEDED)
    if service == "mediation" and wants == "yes" and not flags_in["consent_to_contact_la"]:
        flags.append(FLAG_REQUEST_WITHOUT_CONSENT)
    return ReferralForm(
        form_id=form_id,
        submitted_at=submitted,
        received_on=received_on,
        service=service,
        requester_role=role,
        requester_name=text["requester_name"],
        requester_email=email,
        requester_phone=text["requester_phone"] or None,
        requester_postcode=text["requester_postcode"].upper() or None,
        child_name=text["child_name"],
        child_date_of_birth=born,
        local_authority=la_text,
        decision_type=decision_type,
        decision_letter_sent_on=letter,
        sections=tuple(sections),
        health_issues=flags_in["health_issues"],
        social_care_issues=flags_in["social_care_issues"],
        wants_mediation=wants,
        consent_to_contact_la=flags_in["consent_to_contact_la"],
        notes=text["notes"] or None,
        flags=tuple(flags),
    ), []
