"""One new case of a batched import (issue 14), planned in memory then written with SQLAlchemy Core:
the rows `tasks.intake.records._new_case` writes, in the same order and with the same values —
the clocks computed by the pure engine from the facts in hand (no flush, refresh or query per
case), the emails rendered once — and no ORM object.

The per-record path recomputes three times: after creating the case (no events), after the
family's wish (`mediation-requested`/`-declined`; the emails quote these clocks) and after the
emails (the acknowledgement meets `acknowledge_by`, the LA request starts its clock). The plan
computes the same three sets (remembered for the run by their facts: the engine is pure) and
stores the last in the row order the per-record upserts left, so rows and values are equal.

`write_plans` inserts a batch's plans table by table (each one `executemany`, ids by RETURNING
in the order given): cases, events, referrals, audit lines, emails, clocks — each table's rows in
the order the per-record path inserted them, so the ids match too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from models.db import AuditEntry, Case, CaseEvent, Clock, LocalAuthority, OutboxEmail, Referral
from models.domain.calendar import WorkingCalendar
from models.domain.clocks import CaseFacts, Event, compute_clocks
from models.domain.referrals import ReferralForm
from models.domain.rules import CURRENT_RULES_VERSION
from models.domain.status import case_status
from tasks.cases.casework import case_ref
from tasks.cases.clock_core import clock_values
from tasks.cases.events import check_event_date, check_note
from tasks.intake.records import FLAG_POSSIBLE_DUPLICATE, RECORDED_BY
from tasks.intake.referral_emails import referral_emails
from tasks.mail.outbox import outbox_row
from tasks.privacy.audit_trail import current_operator, wall_clock

_CHUNK = 900  # keys a look-up: well under SQLite's and PostgreSQL's limits on bound parameters
_TABLES: dict[str, Table] = {
    m.__tablename__: m.__table__  # type: ignore[misc]
    for m in (Case, CaseEvent, Referral, AuditEntry, OutboxEmail, Clock)
}


class NewCase(SimpleNamespace):
    """A planned case: its `cases` columns as attributes (what the checks and the email templates
    read of a `Case`), plus `local_authority` and, once inserted, `id`."""

    #: the columns written (`casework.new_case`'s, then the last recompute's status and version)
    COLUMNS = (
        "ref", "service", "status", "la_id", "received_on", "created_at", "updated_at", "requester_role",
        "requester_name", "requester_email", "requester_phone", "requester_postcode", "child_name",
        "child_date_of_birth", "decision_type", "decision_letter_sent_on", "sections", "health_issues",
        "social_care_issues", "wants_mediation", "consent_to_contact_la", "notes", "flags", "rules_version",
    )  # fmt: skip

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.COLUMNS}


@dataclass
class Plan:
    form: ReferralForm
    case: NewCase
    source: str
    match_key: tuple
    duplicate_of: str | None
    wish: str | None  # mediation-requested | mediation-declined | None
    clocks: list[dict] = field(default_factory=list)  # the `clocks` rows (no case id yet), in order
    emails: list[dict] = field(default_factory=list)  # the `outbox` rows (no case id yet), in order
    outbox_ids: list[int] = field(default_factory=list)


class ClockMemo:
    """`compute_clocks` answers of one run by (facts, today, the LA's overrides): the engine is pure,
    and many forms share their facts (same letter and received dates, decision, wish)."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self.answers: dict[tuple, dict] = {}

    def clocks(self, facts: CaseFacts, today: date, overrides: Mapping[str, Any] | None) -> dict:
        key = (facts, today, _frozen(overrides))
        found = self.answers.get(key)
        if found is None:
            found = self.answers[key] = compute_clocks(facts, self.calendar, today, overrides=overrides)
        return found


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def plan_case(
    form: ReferralForm,
    la: LocalAuthority,
    *,
    year: int,
    number: int,
    duplicate_of: str | None,
    match_key: tuple,
    source: str,
    memo: ClockMemo,
    tz: ZoneInfo,
    today: date,
    now: datetime,
) -> Plan:
    """The case of a valid new form, its clocks and emails, not yet written. Raises what the
    per-record path would raise for this form (then nothing of it is written)."""
    flags = list(form.flags) + ([FLAG_POSSIBLE_DUPLICATE] if duplicate_of is not None else [])
    case = _new_case(form, la, ref=case_ref(year, number), flags=flags, now=now)
    wish = None
    if form.service == "mediation" and form.wants_mediation in ("yes", "no"):
        wish = "mediation-requested" if form.wants_mediation == "yes" else "mediation-declined"
        check_event_date(case, form.received_on, today)  # type: ignore[arg-type]  # a `Case`'s attributes
        check_note(f"web form {form.form_id}")
    plan = Plan(form, case, source, match_key, duplicate_of, wish)
    events = (Event(name=wish, on=form.received_on),) if wish else ()
    wants_la = case.service == "mediation" and form.wants_mediation == "yes" and form.consent_to_contact_la
    local_now = now.astimezone(tz).date()
    steps = [
        memo.clocks(_facts(case, step_events, acknowledged, la_informed), today, la.service_standards)
        for step_events, acknowledged, la_informed in (
            ((), None, None),
            *([(events, None, None)] if wish else []),
            (events, local_now, local_now if wants_la and la.sen_team_email else None),
        )
    ]
    before = steps[-2]  # the clocks the per-record path held when it queued the emails
    quoted = {name: (before[name].due, before[name].state) for name in _row_order(steps[:-1])}
    plan.emails = [
        outbox_row(e["key"], e["kind"], e["to"], e["subject"], e["text"], e["html"], None, e["not_before"], now)
        for e in referral_emails(case, form, now=now, new=True, clocks=quoted)
    ]
    final = steps[-1]
    plan.clocks = [{"name": name, **clock_values(final[name]), "computed_at": now} for name in _row_order(steps)]
    case.status = case_status([wish] if wish else [])
    case.rules_version = CURRENT_RULES_VERSION
    return plan


def _facts(case: NewCase, events: tuple, acknowledged: date | None, la_informed: date | None) -> CaseFacts:
    return CaseFacts(
        acknowledged_on=acknowledged,
        la_informed_on=la_informed,
        service=case.service,
        decision_type=case.decision_type,
        letter_sent_on=case.decision_letter_sent_on,
        received_on=case.received_on,
        sections=tuple(case.sections),
        health_issues=case.health_issues,
        events=events,
        next_session=None,
        appeal_lodged=False,
    )


def _new_case(form: ReferralForm, la: LocalAuthority, *, ref: str, flags: list[str], now: datetime) -> NewCase:
    """The case `casework.new_case` makes of a form."""
    return NewCase(
        id=None,
        local_authority=la,
        ref=ref,
        service=form.service,
        status="new",
        la_id=la.id,
        received_on=form.received_on,
        created_at=now,
        updated_at=now,
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
        rules_version=None,
        anonymised_at=None,
    )


def _row_order(steps: list[dict]) -> list[str]:
    """The clock names in the order the per-record path's upserts left the rows: each
    recomputation keeps the rows still computed and appends the new ones."""
    names: list[str] = []
    for step in steps:
        names = [n for n in names if n in step] + [n for n in step if n not in names]
    return names


def write_plans(db: Session, plans: Sequence[Plan], *, now: datetime) -> None:
    """Insert the planned cases and their rows (see the module docstring); sets each case's `id`
    and each plan's `outbox_ids`. Commits nothing."""
    if not plans:
        return
    ids = _insert(db, "cases", [plan.case.row() for plan in plans], key="ref")
    operator, events, referrals, audits, emails, clocks = current_operator(), [], [], [], [], []

    def audit(action: str, case_id: int, detail: dict) -> None:  # the line `tasks.cases.store.audit` writes
        audits.append(
            {"at": now, "actor": RECORDED_BY, "action": action, "case_id": case_id, "detail": detail,
             "recorded_at": wall_clock(), "operator": operator}
        )  # fmt: skip

    for plan, case_id in zip(plans, ids, strict=True):
        plan.case.id = case_id
        form = plan.form
        audit("case:created", case_id, {"ref": plan.case.ref})
        if plan.wish:
            events.append(_event_row(plan, case_id, now))
            audit(f"event:{plan.wish}", case_id, {"on": form.received_on.isoformat()})
        referrals.append(
            {"form_id": form.form_id, "case_id": case_id, "submitted_at": form.submitted_at,
             "source_file": plan.source[-255:], "linked": False, "received_at": now}
        )  # fmt: skip
        audit("referral:received", case_id, {"form_id": form.form_id, "flags": list(form.flags)})
        if plan.duplicate_of is not None:
            audit("referral:possible-duplicate", case_id, {"of": plan.duplicate_of})
        emails += [{**row, "case_id": case_id} for row in plan.emails]
        clocks += [{"case_id": case_id, **row} for row in plan.clocks]
    _insert(db, "case_events", events)
    _insert(db, "referrals", referrals)
    _insert(db, "audit_log", audits)
    outbox_ids = iter(_insert(db, "outbox", emails, key="key"))
    for plan in plans:
        plan.outbox_ids[:] = [next(outbox_ids) for _ in plan.emails]
    _insert(db, "clocks", clocks)


def _event_row(plan: Plan, case_id: int, now: datetime) -> dict:
    """The family's wish, as `casework.record_event` records it."""
    return {
        "case_id": case_id,
        "event": plan.wish,
        "on": plan.form.received_on,
        "note": f"web form {plan.form.form_id}",
        "health": False,
        "cert_type": None,
        "items": [],
        "detail": None,
        "recorded_at": now,
        "recorded_by": RECORDED_BY,
    }


def _insert(db: Session, table: str, rows: list[dict], *, key: str | None = None) -> list[int]:
    """One executemany of `rows` into `table`; with `key` (a unique column), the new rows' ids in
    the rows' order, read back by key — RETURNING in parameter order would cost SQLite a statement
    a row."""
    if not rows:
        return []
    t = _TABLES[table]
    db.execute(insert(t), rows)
    if key is None:
        return []
    column, wanted = t.c[key], [row[key] for row in rows]
    ids: dict[Any, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        ids.update(db.execute(select(column, t.c.id).where(column.in_(wanted[start : start + _CHUNK]))).tuples().all())
    return [ids[k] for k in wanted]
