"""Is this form about a child who already has a case? The possible-duplicate check of intake:
same LA, service, decision letter, date of birth and (normalised) child's name; the first such
case, lowest id first. Looked up through the index `ix_cases_match` (LA, letter, date of birth).
"""

from __future__ import annotations

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from models.db import Case
from models.domain.referrals import ReferralForm


def name_key(name: str | None) -> str:
    return " ".join((name or "").casefold().split())


def match_key(la_id: int, form: ReferralForm) -> tuple:
    """What makes two forms about the same child, LA, service and letter (see `_matching_case`)."""
    return (la_id, form.service, form.child_date_of_birth, form.decision_letter_sent_on, name_key(form.child_name))


def first_matching_ref_alone(db: Session, la_id: int, form: ReferralForm) -> str | None:
    """The reference of the first (lowest id) case matching `form` (see `_matching_case`)."""
    rows = db.execute(
        select(Case.ref, Case.child_name)
        .where(
            Case.la_id == la_id,
            Case.service == form.service,
            Case.child_date_of_birth == form.child_date_of_birth,
            Case.decision_letter_sent_on.is_(None)
            if form.decision_letter_sent_on is None
            else Case.decision_letter_sent_on == form.decision_letter_sent_on,
            Case.anonymised_at.is_(None),
        )
        .order_by(Case.id)
    )
    wanted = name_key(form.child_name)
    return next((ref for ref, name in rows if name_key(name) == wanted), None)


def first_matching_refs(db: Session, forms: list[tuple[int, ReferralForm]]) -> dict[tuple, str]:
    """`match_key` → reference of the first (lowest id) existing case, for every form of `forms`
    that matches one: one query through the index `ix_cases_match` (LA, letter, date of birth)."""
    wanted = {match_key(la_id, form) for la_id, form in forms}
    triples = sorted({(k[0], k[3], k[2]) for k in wanted})  # forms with a letter and a date of birth
    found: dict[tuple, str] = {}
    if not triples:
        return found
    rows = db.execute(
        select(
            Case.ref, Case.la_id, Case.service, Case.child_date_of_birth, Case.decision_letter_sent_on, Case.child_name
        )
        .where(
            tuple_(Case.la_id, Case.decision_letter_sent_on, Case.child_date_of_birth).in_(triples),
            Case.anonymised_at.is_(None),
        )
        .order_by(Case.id)
    )
    for ref, la_id, service, born, letter, name in rows:
        key = (la_id, service, born, letter, name_key(name))
        if key in wanted and key not in found:
            found[key] = ref
    return found
