"""Is this form about a child who already has a case? The possible-duplicate check of intake:
same LA, service, decision letter, date of birth and (normalised) child's name; the first such
case, lowest id first. Looked up through the index `ix_cases_match` (LA, letter, date of birth).
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from models.db import Case
from models.domain.referrals import ReferralForm

#: exact matches OR-ed in one query (SQLite's parser nests an OR chain: keep it well under its depth limit)
_TRIPLES_A_QUERY = 200


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
    # (LA, letter, date of birth) of each form; a missing value (NULL) equals nothing in SQL
    triples = sorted({(k[0], k[3], k[2]) for k in wanted if k[2] is not None and k[3] is not None})
    found: dict[tuple, str] = {}
    for start in range(0, len(triples), _TRIPLES_A_QUERY):
        chunk = triples[start : start + _TRIPLES_A_QUERY]
        chunk += [chunk[-1]] * (_TRIPLES_A_QUERY - len(chunk))  # the same triple again: the same rows
        params = {f"{name}{i}": value for i, triple in enumerate(chunk) for name, value in zip("alb", triple)}
        for ref, la_id, service, born, letter, name in db.execute(_matches_query(), params):
            key = (la_id, service, born, letter, name_key(name))
            if key in wanted and key not in found:
                found[key] = ref
    return found


@cache
def _matches_query() -> Select:
    """An OR of `_TRIPLES_A_QUERY` exact matches on (LA, letter, date of birth), which SQLite answers
    by one index probe each (a row-value IN list it answers by reading every case); built once, so
    SQLAlchemy compiles it once (a new expression of 600 values a batch cost more than the query)."""
    return (
        select(
            Case.ref, Case.la_id, Case.service, Case.child_date_of_birth, Case.decision_letter_sent_on, Case.child_name
        )
        .where(
            or_(
                *(
                    and_(
                        Case.la_id == bindparam(f"a{i}"),
                        Case.decision_letter_sent_on == bindparam(f"l{i}"),
                        Case.child_date_of_birth == bindparam(f"b{i}"),
                    )
                    for i in range(_TRIPLES_A_QUERY)
                )
            ),
            Case.anonymised_at.is_(None),
        )
        .order_by(Case.id)
    )
