"""One new case of a batched import (issue 14), planned in memory then written with SQLAlchemy Core:
the rows `tasks.intake.records._new_case` writes, in the same order and with the same values —
clocks from `tasks.intake.intake_clocks` (the pure engine, no flush, refresh or query per case),
emails rendered once from the planned case — and no ORM object.

`write_plans` inserts a batch's plans table by table, each one `executemany`
(`tasks.intake.bulk_insert`): cases (their ids read back by reference), events, referrals,
audit lines, emails (ids read back by key), clocks — each table's rows in the order the
per-record path inserted them, so the ids match too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from models.db import AuditEntry, Case, CaseEvent, Clock, LocalAuthority, OutboxEmail, Referral
from models.domain.referrals import ReferralForm
from models.domain.rules import CURRENT_RULES_VERSION
from models.domain.status import case_status
from tasks.cases.casework import case_ref
from tasks.cases.events import check_event_date, check_note
from tasks.intake.bulk_insert import insert_rows
from tasks.intake.intake_clocks import ClockMemo
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
    wants_la = case.service == "mediation" and form.wants_mediation == "yes" and form.consent_to_contact_la
    quoted, plan.clocks = memo.outcome(
        case, wish, bool(wants_la and la.sen_team_email), la.service_standards, today=today, now=now, tz=tz
    )
    plan.emails = [
        outbox_row(e["key"], e["kind"], e["to"], e["subject"], e["text"], e["html"], None, e["not_before"], now)
        for e in referral_emails(case, form, now=now, new=True, clocks=quoted)
    ]
    case.status = case_status([wish] if wish else [])
    case.rules_version = CURRENT_RULES_VERSION
    return plan


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
        appeal_lodged=False,  # the column's default (not written): what the clock engine reads of a new case
    )


def write_plans(db: Session, plans: Sequence[Plan], *, now: datetime) -> None:
    """Insert the planned cases and their rows (see the module docstring); sets each case's `id`
    and each plan's `outbox_ids`. Commits nothing."""
    if not plans:
        return
    ids = _insert(db, "cases", [plan.case.row() for plan in plans], key="ref")
    operator, written, events, referrals, audits, emails, clocks = current_operator(), wall_clock(), [], [], [], [], []

    # the lines `tasks.cases.store.audit` writes; `recorded_at`: when the batch writes them (real time)
    def audit(action: str, case_id: int, detail: dict) -> None:
        audits.append(
            {"at": now, "actor": RECORDED_BY, "action": action, "case_id": case_id, "detail": detail,
             "recorded_at": written, "operator": operator}
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
    insert_rows(db, t, rows)
    if key is None:
        return []
    column, wanted = t.c[key], [row[key] for row in rows]
    ids: dict[Any, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        ids.update(db.execute(select(column, t.c.id).where(column.in_(wanted[start : start + _CHUNK]))).tuples().all())
    return [ids[k] for k in wanted]
