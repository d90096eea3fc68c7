"""Importing a file's records in batches (issue 14): many records a transaction, same result as
`tasks.intake.records.import_record` one by one.

A batch of up to `BATCH_SIZE` records is one transaction: the records are checked and planned in
memory (the LA register, the working calendar and the time zone loaded once a run; case numbers
counted on: the year's highest read once a run, and each later batch's next number checked by one
indexed look-up of its reference, the year read again if someone numbered meanwhile; the possible-
duplicate check through the indexed match query, remembered for the run; clocks computed by the pure
engine from the facts in hand), then the new cases are inserted together, then their events,
referral rows, audit lines, emails and clocks, and the batch commits. A record that fails while
planned is rejected alone ("internal error", nothing of it written, its number reused), as before.
Should the database refuse the batch (a concurrent run took a form id or a case number, an email key
exists, anything else), the batch is rolled back whole and its records imported one by one by
`import_record`, which retries conflicts: a crash or a refusal never leaves half a case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import Case, LocalAuthority, Referral
from models.domain.calendar import WorkingCalendar
from models.domain.referrals import ReferralForm, form_id_of, validate_referral
from tasks.cases.casework import case_ref, first_free_case_number, la_finder
from tasks.db import unit_of_work
from tasks.intake import matching
from tasks.intake import records as rec
from tasks.intake.inbox_formats import NOT_A_RECORD
from tasks.intake.intake_clocks import ClockMemo
from tasks.intake.intake_plan import NewCase, Plan, plan_case, write_plans
from tasks.settings import get_settings

log = logging.getLogger(__name__)
BATCH_SIZE = 500


@dataclass
class RunMemory:
    """What one run loads once and remembers across its batches."""

    calendar: WorkingCalendar
    tz: ZoneInfo
    memo: ClockMemo = field(init=False)
    #: (la_id, service, date of birth, letter, name key) → reference of the first matching case
    first_match: dict[tuple, str] = field(default_factory=dict)
    #: year → the next free case number after this run's last committed batch
    next_number: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.memo = ClockMemo(self.calendar)

    def first_free_number(self, db: Session, year: int) -> int:
        """`casework.first_free_case_number`, without reading the year's every reference again
        after each batch: the number after this run's last batch, unless its reference exists.
        Every writer numbers from the highest number + 1 and no case is deleted, so anyone who
        took a number since took that one first; then (or after a fallback) the year is read."""
        known = self.next_number.get(year)
        if known is not None and db.scalar(select(Case.id).where(Case.ref == case_ref(year, known))) is None:
            return known
        return first_free_case_number(db, year)

    @classmethod
    def load(cls) -> RunMemory:
        from tasks.deadlines.calendar_source import working_calendar

        return cls(working_calendar(), ZoneInfo(get_settings().timezone))


def import_records_batched(
    records: Sequence[tuple[str, dict]], *, source: str, today: date, now: datetime, memory: RunMemory | None = None
) -> Iterator[rec.RecordResult]:
    """Import `records` ((locator, fields) pairs) in batches; yields each record's result in order."""
    memory = memory or RunMemory.load()
    for start in range(0, len(records), BATCH_SIZE):
        chunk = records[start : start + BATCH_SIZE]
        try:
            results = _import_batch(chunk, memory, source=source, today=today, now=now)
        except Exception as exc:  # noqa: BLE001 — the batch is rolled back; one by one decides each record
            log.info("a batch of %d records fell back to one by one (%s)", len(chunk), type(exc).__name__)
            memory.first_match.clear()
            memory.next_number.clear()
            results = [
                rec.import_record(fields, source=source, locator=locator, today=today, now=now)
                for locator, fields in chunk
            ]
        yield from results


@dataclass
class _Batch:
    db: Session
    memory: RunMemory
    find_la: Callable[[str], LocalAuthority | None]
    seen: dict[str, Case | NewCase]  # form ids imported before or earlier in this batch → their case
    numbers: dict[int, int] = field(default_factory=dict)  # year → next free case number
    plans: list[Plan] = field(default_factory=list)


def _import_batch(
    chunk: Sequence[tuple[str, dict]], memory: RunMemory, *, source: str, today: date, now: datetime
) -> list[rec.RecordResult]:
    with unit_of_work() as db:
        form_ids = [f for f in (form_id_of(fields) for _, fields in chunk) if f]
        seen: dict[str, Case | NewCase] = {}
        if form_ids:
            found = db.execute(
                select(Referral.form_id, Case)
                .join(Case, Case.id == Referral.case_id)
                .where(Referral.form_id.in_(form_ids))
            )
            seen = {form_id: case for form_id, case in found}
        batch = _Batch(db, memory, la_finder(db.scalars(select(LocalAuthority)).all()), seen)
        checked = [_validate(batch, fields, today) for _, fields in chunk]
        _look_up_matches(batch, [c[0] for c in checked if isinstance(c, tuple) and c[0] is not None])
        results = [
            _one(batch, fields, check, source=source, locator=locator, today=today, now=now)
            for (locator, fields), check in zip(chunk, checked, strict=True)
        ]
        write_plans(db, batch.plans, now=now)
        db.commit()
    memory.next_number.update(batch.numbers)
    return results


def _validate(batch: _Batch, fields: dict, today: date) -> tuple | Exception | None:
    """`validate_referral`'s (form, problems) — or what it raised, for `_one` to report."""
    if NOT_A_RECORD in fields:
        return None
    try:
        return validate_referral(
            fields, today=today, tz=batch.memory.tz, la_known=lambda text: batch.find_la(text) is not None
        )
    except Exception as exc:  # noqa: BLE001 — reported by `_one` if the record needs validating
        return exc


def _look_up_matches(batch: _Batch, forms: list[ReferralForm]) -> None:
    """Remember the first existing case of every valid form's child/LA/letter not known yet (one
    query a batch; a form with no date of birth or letter is looked up alone, as before)."""
    keyed = []
    for form in forms:
        la = batch.find_la(form.local_authority)
        if la is None or matching.match_key(la.id, form) in batch.memory.first_match:
            continue
        if form.child_date_of_birth is None or form.decision_letter_sent_on is None:
            found = matching.first_matching_ref_alone(batch.db, la.id, form)
            if found is not None:
                batch.memory.first_match[matching.match_key(la.id, form)] = found
        else:
            keyed.append((la.id, form))
    if keyed:
        batch.memory.first_match.update(matching.first_matching_refs(batch.db, keyed))


def _one(
    batch: _Batch,
    fields: dict,
    check: tuple | Exception | None,
    *,
    source: str,
    locator: str,
    today: date,
    now: datetime,
) -> rec.RecordResult:
    """One record's result; a valid new form becomes a plan of the batch."""
    form_id = form_id_of(fields)
    try:
        if NOT_A_RECORD in fields:
            return rec.unreadable(fields, source=source, locator=locator)
        if form_id and form_id in batch.seen:
            return rec.seen_result(
                batch.seen[form_id], fields, batch.find_la, form_id=form_id, source=source, locator=locator
            )
        if isinstance(check, Exception):
            raise check
        assert check is not None
        form, problems = check
        if form is None:
            return rec.invalid(problems, form_id=form_id, source=source, locator=locator)
        plan = _plan(batch, form, source=source, today=today, now=now)
    except Exception as exc:  # noqa: BLE001 — one bad record never stops the others; no personal data logged
        log.error("record %s (form %s) could not be imported: %s", locator, form_id, type(exc).__name__)
        return rec.internal_error(form_id, source=source, locator=locator)
    batch.plans.append(plan)
    batch.seen[form.form_id] = plan.case
    batch.numbers[form.received_on.year] += 1
    if plan.match_key not in batch.memory.first_match:
        batch.memory.first_match[plan.match_key] = plan.case.ref
    return rec.RecordResult(
        source, form.form_id, "imported", plan.case.ref, locator=locator, outbox_ids=plan.outbox_ids
    )


def _plan(batch: _Batch, form: ReferralForm, *, source: str, today: date, now: datetime) -> Plan:
    la = batch.find_la(form.local_authority)
    assert la is not None  # validated: the LA is known
    year = form.received_on.year
    if year not in batch.numbers:
        batch.numbers[year] = batch.memory.first_free_number(batch.db, year)
    key = matching.match_key(la.id, form)
    return plan_case(
        form,
        la,
        year=year,
        number=batch.numbers[year],
        duplicate_of=batch.memory.first_match.get(key),
        match_key=key,
        source=source,
        memo=batch.memory.memo,
        tz=batch.memory.tz,
        today=today,
        now=now,
    )
