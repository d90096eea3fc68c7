"""Importing one referral record: its case, first events, referral row and emails in ONE transaction.

`import_record(fields, ...)` never raises for bad data: it returns a `RecordResult` whose
status is `imported` (a new case; flagged `possible-duplicate` when another case has the same
child, LA and decision letter), `duplicate` (the `form_id` was imported before) or `rejected`
(with plain-English errors). A conflict with a concurrent run (unique
`form_id` or case reference) is retried; anything unexpected rejects this record only.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.db import Case, Referral
from models.domain.referrals import ReferralForm, form_id_of, validate_referral
from tasks.cases.casework import audit, find_local_authority, new_case, recompute_clocks, record_event
from tasks.db import unit_of_work
from tasks.intake.matching import first_matching_ref_alone, name_key
from tasks.intake.referral_emails import queue_referral_emails
from tasks.settings import get_settings

log = logging.getLogger(__name__)
RECORDED_BY = "flow:referral-intake"
FLAG_POSSIBLE_DUPLICATE = "possible-duplicate"  # another case for the same child, LA and letter


@dataclass
class RecordResult:
    """One record's outcome. `errors` is for people (may quote the form); `reasons` is value-free."""

    source: str
    form_id: str | None
    status: str  # imported | duplicate | rejected
    case_ref: str | None = None
    errors: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    locator: str = ""
    outbox_ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict:
        """The contract's result item."""
        return {
            "source": self.source,
            "form_id": self.form_id,
            "status": self.status,
            "case_ref": self.case_ref,
            "errors": list(self.errors),
        }


def import_record(
    fields: dict, *, source: str, locator: str, today: date, now: datetime, retries: int = 25
) -> RecordResult:
    """Validate and import one flattened record in its own transaction (see module docstring)."""
    form_id = form_id_of(fields)
    for attempt in range(retries):
        try:
            with unit_of_work() as db:
                result = _import(db, fields, form_id=form_id, source=source, locator=locator, today=today, now=now)
                if result.status != "rejected":
                    db.commit()
                return result
        except IntegrityError:  # a concurrent run took the same form_id or case reference
            if attempt + 1 < retries:
                # de-synchronise the racers; long enough that a run importing a big file meanwhile
                # cannot starve this one (each retry reads the next free case reference again)
                time.sleep(random.uniform(0.01, 0.1) * min(attempt + 1, 10))
                continue
            log.error("record %s of a referral file hit a database conflict %d times", locator, retries)
        except Exception as exc:  # one bad record never stops the others; no personal data logged
            log.error("record %s (form %s) could not be imported: %s", locator, form_id, type(exc).__name__)
            break
    return internal_error(form_id, source=source, locator=locator)


def internal_error(form_id: str | None, *, source: str, locator: str) -> RecordResult:
    """The result of a record that failed for a reason of ours (nothing of it was written)."""
    return RecordResult(
        source,
        form_id,
        "rejected",
        locator=locator,
        errors=["could not be imported because of an internal error; it will be retried if the file is given again"],
        reasons=["internal error"],
    )


def invalid(problems: list, *, form_id: str | None, source: str, locator: str) -> RecordResult:
    """The result of a record the validator refused (plain-English errors, value-free reasons)."""
    errors = [p.text for p in problems]
    if not form_id:
        errors = [f"{locator}: {e}" for e in errors]
    return RecordResult(
        source, form_id, "rejected", locator=locator, errors=errors, reasons=[p.summary for p in problems]
    )


def unreadable(fields: dict, *, source: str, locator: str) -> RecordResult:
    """The result of an entry of the file that is not a record at all."""
    from tasks.intake.inbox import NOT_A_RECORD

    return RecordResult(
        source,
        None,
        "rejected",
        locator=locator,
        errors=[f"{locator} {fields[NOT_A_RECORD]}"],
        reasons=["record could not be read as a referral"],
    )


def _import(
    db: Session, fields: dict, *, form_id: str | None, source: str, locator: str, today: date, now: datetime
) -> RecordResult:
    from tasks.intake.inbox import NOT_A_RECORD

    if NOT_A_RECORD in fields:
        return unreadable(fields, source=source, locator=locator)
    if form_id:
        seen = _seen_before(db, fields, form_id=form_id, source=source, locator=locator)
        if seen is not None:
            return seen
    tz = ZoneInfo(get_settings().timezone)
    form, problems = validate_referral(
        fields, today=today, tz=tz, la_known=lambda text: find_local_authority(db, text) is not None
    )
    if form is None:
        return invalid(problems, form_id=form_id, source=source, locator=locator)
    case, ids = _new_case(db, form, source=source, today=today, now=now)
    return RecordResult(source, form.form_id, "imported", case.ref, locator=locator, outbox_ids=ids)


def _seen_before(db: Session, fields: dict, *, form_id: str, source: str, locator: str) -> RecordResult | None:
    """The result for a `form_id` imported before (a duplicate, or rejected when it was another
    child's or LA's); None for a new form."""
    seen = db.scalar(select(Referral).where(Referral.form_id == form_id))
    if seen is None:
        return None
    case = db.get(Case, seen.case_id)
    assert case is not None  # a referral always belongs to a case
    return seen_result(
        case, fields, lambda text: find_local_authority(db, text), form_id=form_id, source=source, locator=locator
    )


def seen_result(
    case: Any, fields: dict, find_la: Callable[[str], Any], *, form_id: str, source: str, locator: str
) -> RecordResult:
    """The result for a record whose `form_id` was imported before as `case` (a `Case`, or a
    `NewCase` of the same batch)."""
    if _is_other_child_or_la(find_la, case, fields):
        return RecordResult(
            source,
            form_id,
            "rejected",
            locator=locator,
            errors=[f"form {form_id} was already imported for another child/LA: see {case.ref}"],
            reasons=["form_id already imported for another child or local authority"],
        )
    return RecordResult(
        source,
        form_id,
        "duplicate",
        case.ref,
        locator=locator,
        errors=[f"form {form_id} was imported before (case {case.ref})"],
    )


def _new_case(db: Session, form: ReferralForm, *, source: str, today: date, now: datetime) -> tuple[Case, list[int]]:
    """The case of a valid new form, its first events, referral row and emails; (case, outbox ids)."""
    la = find_local_authority(db, form.local_authority)
    assert la is not None  # validated: the LA is known
    # README.md "Referrals": `form_id` makes a referral idempotent; another form for the same child, LA and
    # letter is a new case, flagged for the team to check (not silently merged into the first)
    existing = _matching_case(db, la.id, form)
    flags = list(form.flags) + ([FLAG_POSSIBLE_DUPLICATE] if existing is not None else [])
    case = new_case(
        db,
        la=la,
        service=form.service,
        received_on=form.received_on,
        now=now,
        today=today,
        recorded_by=RECORDED_BY,
        requester_role=form.requester_role,
        requester_name=form.requester_name,
        requester_email=form.requester_email,
        requester_phone=form.requester_phone,
        requester_postcode=form.requester_postcode,
        child_name=form.child_name,
        child_date_of_birth=form.child_date_of_birth,
        decision_type=form.decision_type,
        decision_letter_sent_on=form.decision_letter_sent_on,
        sections=list(form.sections),
        health_issues=form.health_issues,
        social_care_issues=form.social_care_issues,
        wants_mediation=form.wants_mediation,
        consent_to_contact_la=form.consent_to_contact_la,
        notes=form.notes,
        flags=flags,
    )
    _record_wish(db, case, form, today=today, now=now)
    _add_referral(db, case, form, source, now, linked=False)
    if existing is not None:
        audit(db, RECORDED_BY, "referral:possible-duplicate", case.id, now, {"of": existing.ref})
    rows = queue_referral_emails(db, case, form, now=now, new=True)
    recompute_clocks(db, case, today, now)  # the acknowledgement just queued meets acknowledge_by
    return case, [row.id for row in rows]


def _is_other_child_or_la(find_la: Callable[[str], Any], case: Any, fields: dict) -> bool:
    """A record reusing `case`'s form_id names another child (name or date of birth) or another LA.
    What the record leaves blank or unreadable is not a difference (that stays a duplicate)."""
    from models.domain.referrals import parse_date

    if case is None or case.anonymised_at is not None:
        return False
    name, born, la_text = fields.get("child_name"), fields.get("child_date_of_birth"), fields.get("local_authority")
    if isinstance(name, str) and name.strip() and case.child_name and name_key(name) != name_key(case.child_name):
        return True
    born_on = parse_date(born) if isinstance(born, (str, date)) else None
    if born_on is not None and case.child_date_of_birth and born_on != case.child_date_of_birth:
        return True
    if isinstance(la_text, str) and la_text.strip():
        la = find_la(la_text)
        if la is not None and la.id != case.la_id:
            return True
    return False


def _matching_case(db: Session, la_id: int, form: ReferralForm) -> Case | None:
    """An existing case for the same child (name and date of birth), LA, service and decision letter."""
    ref = first_matching_ref_alone(db, la_id, form)
    return None if ref is None else db.scalar(select(Case).where(Case.ref == ref))


def _record_wish(db: Session, case: Case, form: ReferralForm, *, today: date, now: datetime) -> None:
    """`wants_mediation` no → `mediation-declined` (the certificate clock starts), yes →
    `mediation-requested`, both on the date received. Mediation cases only; once per case."""
    if case.service != "mediation" or form.wants_mediation not in ("yes", "no"):
        return
    if any(e.event in ("mediation-declined", "mediation-requested") for e in case.events):
        return
    event = "mediation-requested" if form.wants_mediation == "yes" else "mediation-declined"
    record_event(
        db,
        case,
        event,
        form.received_on,
        now=now,
        today=today,
        recorded_by=RECORDED_BY,
        note=f"web form {form.form_id}",
    )
    case.wants_mediation = form.wants_mediation


def _add_referral(db: Session, case: Case, form: ReferralForm, source: str, now: datetime, *, linked: bool) -> None:
    db.add(
        Referral(
            form_id=form.form_id,
            case_id=case.id,
            submitted_at=form.submitted_at,
            source_file=source[-255:],
            linked=linked,
            received_at=now,
        )
    )
    audit(
        db,
        RECORDED_BY,
        "referral:linked" if linked else "referral:received",
        case.id,
        now,
        {"form_id": form.form_id, "flags": list(form.flags)},
    )
