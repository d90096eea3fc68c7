"""The field rules of a referral form, one function per field, in the order the problems are
reported (`RULES`); `models.domain.referrals.validate_referral` runs them over a `Draft`.

Each rule reads the form's text (`Draft.text`) or raw values (`Draft.raw`), records the problems
it finds (`Draft.add`) and leaves the typed value on the draft for the rules after it (the
service, the date received, the decision type…). Every problem is said once per field: a field
refused as text (an object, a control character, too long) gets no second problem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from models.domain.dates import parse_date, parse_moment
from models.domain.fields import NAME_MAX, NOTE_MAX, date_problem, email_problem, identifier_problem, text_problem
from models.domain.referral_values import age_on, as_text, local_day, parse_bool
from models.domain.referral_values import parse_sections as _parse_sections
from models.domain.vocabulary import DECISION_TYPES, REQUESTER_ROLES, SERVICES, WANTS_MEDIATION

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
MAX_AGE = 25  # the service is for 0-25 year olds (README, docs/rules.md)
LAW_IN_FORCE = date(2014, 9, 1)  # SEND Regulations 2014: no earlier decision is in scope
LIMITS = {
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
LABELS = {
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
        return f"{LABELS.get(self.field, self.field)} {self.reason}"


@dataclass
class Draft:
    """One form under validation: its values, the problems found so far, the typed values so far."""

    raw: dict[str, object]
    today: date
    tz: tzinfo
    la_known: Callable[[str], bool]
    problems: list[Problem] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # fields already refused as text
    text: dict[str, str] = field(default_factory=dict)
    submitted: datetime | None = None
    received_on: date | None = None
    service: str = "mediation"
    role: str = ""
    born: date | None = None
    decision_type: str | None = None
    letter: date | None = None
    sections: list[str] = field(default_factory=list)
    yes_no: dict[str, bool] = field(default_factory=dict)
    wants: str = "undecided"

    def add(self, name: str, reason: str, text: str | None = None) -> None:
        if name in self.refused:
            return
        self.problems.append(Problem(name, reason, text or f"{LABELS.get(name, name)} {reason}"))


def _sections_problem(value: object) -> str | None:
    if isinstance(value, (list, tuple)):
        for item in value:
            if text_problem(item, limit=20):
                return "is not a list of section letters"
        return None
    return text_problem(value, limit=200)


def text_first(d: Draft) -> None:
    """Text first: an object, a list, NUL or a control character is refused as such; then lengths."""
    for name in FIELDS:
        value = d.raw[name]
        if isinstance(value, (date, datetime, bool, int, float)):
            continue
        problem = (
            _sections_problem(value)
            if name == "sections"
            else text_problem(value, limit=_TEXT_LIMIT.get(name, 10 * NAME_MAX), single_line=name != "notes")
        )
        if problem:
            d.add(name, problem)
            d.refused.add(name)
            d.raw[name] = None
    d.text = {k: as_text(v) for k, v in d.raw.items() if k != "sections"}
    for name, limit in LIMITS.items():
        if len(d.text[name]) > limit:
            d.add(name, f"is too long (at most {limit} characters)")


def form_id(d: Draft) -> None:
    value = d.text["form_id"]
    if not value:
        d.add("form_id", "is missing")
    elif identifier_problem(value):
        d.add("form_id", identifier_problem(value) or "")


def submitted_at(d: Draft) -> None:
    """When the form was sent; its local date is the date received (else `today`)."""
    d.submitted = parse_moment(d.raw["submitted_at"], d.tz)
    d.received_on = d.today
    day = local_day(d.submitted, d.tz) if d.submitted is not None else None
    if not d.text["submitted_at"]:
        d.add("submitted_at", "is missing")
    elif d.submitted is None:
        shown = f"submitted_at {d.text['submitted_at']!r} is not a date and time (use e.g. 2026-11-20T14:03:00Z)"
        d.add("submitted_at", "is not a date and time", shown)
    elif day is None or date_problem(day):
        d.add("submitted_at", date_problem(day) or "is not a date and time")
    elif day > d.today:
        d.add("submitted_at", "is in the future")
    else:
        d.received_on = day


def service(d: Draft) -> None:
    d.service = d.text["service"].lower() or "mediation"
    if d.service not in SERVICES:
        d.add("service", "is not mediation or drs", f"service {d.text['service']!r} is not mediation or drs")


def requester(d: Draft) -> None:
    """The requester's role, name and email, then the child's name."""
    d.role = d.text["requester_role"].lower().replace(" ", "_").replace("-", "_")
    if not d.role:
        d.add("requester_role", "is missing")
    elif d.role not in REQUESTER_ROLES:
        shown = f"requester role {d.text['requester_role']!r} is not one of: {', '.join(REQUESTER_ROLES)}"
        d.add("requester_role", "is not a known role", shown)
    if not d.text["requester_name"]:
        d.add("requester_name", "is missing")
    if not d.text["requester_email"]:
        d.add("requester_email", "is missing")
    elif email_problem(d.text["requester_email"]) is not None:
        d.add("requester_email", "does not look like an email address")
    if not d.text["child_name"]:
        d.add("child_name", "is missing")


def child_date_of_birth(d: Draft) -> None:
    d.born = born = parse_date(d.raw["child_date_of_birth"])
    received_on = d.received_on or d.today
    if not d.text["child_date_of_birth"]:
        d.add("child_date_of_birth", "is missing")
    elif born is None:
        d.add("child_date_of_birth", "is not a date (use YYYY-MM-DD)")
    elif born > received_on:
        d.add("child_date_of_birth", "is in the future")
    elif age_on(born, received_on) > MAX_AGE:
        shown = (
            f"the child or young person is {age_on(born, received_on)} on the date received; "
            f"the service is for ages 0 to {MAX_AGE}"
        )
        d.add("child_date_of_birth", "is outside the service's age range", shown)


def local_authority(d: Draft) -> None:
    la_text = d.text["local_authority"]
    if not la_text:
        d.add("local_authority", "is missing")
    elif not d.la_known(la_text):
        shown = f"local authority {la_text!r} is not in the register (use its name or ONS code)"
        d.add("local_authority", "is not in the register", shown)


def decision_type(d: Draft) -> None:
    d.decision_type = d.text["decision_type"].lower() or None
    if d.decision_type is None and d.service == "mediation":
        d.add("decision_type", "is missing", "decision type is missing (mediation needs the LA's decision)")
    elif d.decision_type is not None and d.decision_type not in DECISION_TYPES:
        shown = f"decision type {d.text['decision_type']!r} is not one of: {', '.join(DECISION_TYPES)}"
        d.add("decision_type", "is not a known decision type", shown)


def decision_letter_sent_on(d: Draft) -> None:
    d.letter = letter = parse_date(d.raw["decision_letter_sent_on"])
    if not d.text["decision_letter_sent_on"]:
        if d.service == "mediation":
            d.add("decision_letter_sent_on", "is missing")
    elif letter is None:
        d.add("decision_letter_sent_on", "is not a date (use YYYY-MM-DD)")
    elif letter > (d.received_on or d.today):
        d.add("decision_letter_sent_on", "is after the referral was submitted")
    elif letter < LAW_IN_FORCE:
        d.add("decision_letter_sent_on", "is before the SEND Regulations 2014 came into force")


def sections(d: Draft) -> None:
    found, unknown = _parse_sections(d.raw["sections"])
    if unknown:
        d.add("sections", "has unknown sections", f"sections {', '.join(unknown)} unknown (use B, F and I)")
    if d.decision_type != "plan_contents":
        found = []
    elif not found and not unknown:
        d.add("sections", "is missing", "sections are missing: a plan_contents dispute names B, F and/or I")
    d.sections = found


def yes_no(d: Draft) -> None:
    for name in ("health_issues", "social_care_issues", "consent_to_contact_la"):
        value = parse_bool(d.raw[name])
        if value is None:
            d.add(name, "is not yes or no", f"{name} {d.text[name]!r} is not yes or no")
        d.yes_no[name] = bool(value)


def wants_mediation(d: Draft) -> None:
    """What the family wants; a professional's referral needs the family's consent recorded."""
    d.wants = d.text["wants_mediation"].lower() or "undecided"
    if d.wants not in WANTS_MEDIATION:
        shown = f"wants_mediation {d.text['wants_mediation']!r} is not yes, no or undecided"
        d.add("wants_mediation", "is not yes, no or undecided", shown)
    if d.role == "professional" and not d.yes_no["consent_to_contact_la"]:
        shown = "a referral from a professional needs the family's consent recorded (consent_to_contact_la: yes)"
        d.add("consent_to_contact_la", "is needed for a referral from a professional", shown)


#: The rules in the order their problems are reported.
RULES: tuple[Callable[[Draft], None], ...] = (
    text_first,
    form_id,
    submitted_at,
    service,
    requester,
    child_date_of_birth,
    local_authority,
    decision_type,
    decision_letter_sent_on,
    sections,
    yes_no,
    wants_mediation,
)


def draft_of(fields: Mapping[str, Any], *, today: date, tz: tzinfo, la_known: Callable[[str], bool]) -> Draft:
    """Run every rule over `fields` (a flattened record); the draft carries problems and values."""
    draft = Draft({k: fields.get(k) for k in FIELDS}, today, tz, la_known)
    for rule in RULES:
        rule(draft)
    return draft
