"""One new case of a batched import (issue 14), planned in memory then written: the rows
`tasks.intake.records._new_case` writes, in the same order, with the clocks it computes — here
by the pure engine from the facts in hand (no flush, refresh or query per case).

The per-record path recomputes three times: after creating the case (no events), after the
family's wish (`mediation-requested`/`-declined`; the emails quote these clocks) and after the
emails (the acknowledgement meets `acknowledge_by`, the LA request starts its clock). The plan
computes the same three sets and stores them in the same order, so rows and values are equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.orm import Session

from models.db import AuditEntry, Case, CaseEvent, Clock, LocalAuthority, Referral
from models.domain.calendar import WorkingCalendar
from models.domain.clocks import CaseFacts, Event, compute_clocks
from models.domain.referrals import ReferralForm
from models.domain.rules import CURRENT_RULES_VERSION
from models.domain.status import case_status
from tasks.cases.casework import case_ref
from tasks.cases.clock_core import clock_values
from tasks.cases.events import check_event_date, check_note
from tasks.intake.records import FLAG_POSSIBLE_DUPLICATE, RECORDED_BY
from tasks.intake.referral_emails import queue_referral_emails
from tasks.privacy.audit_trail import current_operator, wall_clock


@dataclass
class Plan:
    form: ReferralForm
    case: Case
    source: str
    match_key: tuple
    duplicate_of: str | None
    wish: str | None  # mediation-requested | mediation-declined | None
    steps: list[dict] = field(default_factory=list)  # the clocks after creation, (after the wish,) at the end
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
    calendar: WorkingCalendar,
    tz: ZoneInfo,
    today: date,
    now: datetime,
) -> Plan:
    """The case of a valid new form, not yet added to the database. Raises what the per-record
    path would raise for this form (then nothing of it is written)."""
    flags = list(form.flags) + ([FLAG_POSSIBLE_DUPLICATE] if duplicate_of is not None else [])
    case = _case_row(form, la, ref=case_ref(year, number), flags=flags, now=now)
    case.local_authority = la
    wish = None
    if form.service == "mediation" and form.wants_mediation in ("yes", "no"):
        wish = "mediation-requested" if form.wants_mediation == "yes" else "mediation-declined"
        check_event_date(case, form.received_on, today)
        check_note(f"web form {form.form_id}")
    plan = Plan(form, case, source, match_key, duplicate_of, wish)
    overrides = la.service_standards
    events = (Event(name=wish, on=form.received_on),) if wish else ()
    wants_la = case.service == "mediation" and form.wants_mediation == "yes" and form.consent_to_contact_la
    local_now = now.astimezone(tz).date()
    for step_events, acknowledged, la_informed in (
        ((), None, None),
        *([(events, None, None)] if wish else []),
        (events, local_now, local_now if wants_la and la.sen_team_email else None),
    ):
        facts = CaseFacts(
            acknowledged_on=acknowledged,
            la_informed_on=la_informed,
            service=case.service,
            decision_type=case.decision_type,
            letter_sent_on=case.decision_letter_sent_on,
            received_on=case.received_on,
            sections=tuple(case.sections or ()),
            health_issues=case.health_issues,
            events=step_events,
            next_session=None,
            appeal_lodged=False,
        )
        plan.steps.append(compute_clocks(facts, calendar, today, overrides=overrides))
    return plan


def _case_row(form: ReferralForm, la: LocalAuthority, *, ref: str, flags: list[str], now: datetime) -> Case:
    """The `Case` row `casework.new_case` makes of a form (not added to the database)."""
    return Case(
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
        clocks=[],
        events=[],
    )


@dataclass
class BulkRows:
    """The audit lines and clock rows of a batch, inserted together (no ORM object each)."""

    now: datetime
    audits: list[dict] = field(default_factory=list)
    clocks: list[dict] = field(default_factory=list)
    operator: str = field(default_factory=current_operator)

    def audit(self, action: str, case_id: int, detail: dict) -> None:
        """The line `tasks.cases.store.audit` writes."""
        self.audits.append(
            {
                "at": self.now,
                "actor": RECORDED_BY,
                "action": action,
                "case_id": case_id,
                "detail": detail,
                "recorded_at": wall_clock(),
                "operator": self.operator,
            }
        )

    def insert(self, db: Session) -> None:
        if self.audits:
            db.execute(insert(AuditEntry), self.audits)
        if self.clocks:
            db.execute(insert(Clock), self.clocks)


def write_plan(db: Session, plan: Plan, bulk: BulkRows, *, now: datetime) -> list:
    """Add the rows of a planned case already inserted (it has its id): events, referral and
    emails to the session, audit lines and clocks to `bulk` (in the per-record path's order);
    returns its outbox rows."""
    case, form = plan.case, plan.form
    bulk.audit("case:created", case.id, {"ref": case.ref})
    if plan.wish:
        case.events.append(
            CaseEvent(
                case_id=case.id,
                event=plan.wish,
                on=form.received_on,
                note=f"web form {form.form_id}",
                health=False,
                cert_type=None,
                items=[],
                detail=None,
                recorded_at=now,
                recorded_by=RECORDED_BY,
            )
        )
        bulk.audit(f"event:{plan.wish}", case.id, {"on": form.received_on.isoformat()})
    db.add(
        Referral(
            form_id=form.form_id,
            case_id=case.id,
            submitted_at=form.submitted_at,
            source_file=plan.source[-255:],
            linked=False,
            received_at=now,
        )
    )
    bulk.audit("referral:received", case.id, {"form_id": form.form_id, "flags": list(form.flags)})
    if plan.duplicate_of is not None:
        bulk.audit("referral:possible-duplicate", case.id, {"of": plan.duplicate_of})
    before = plan.steps[-2]  # the clocks the per-record path held when it queued the emails
    quoted = {name: (before[name].due, before[name].state) for name in _row_order(plan.steps[:-1])}
    rows = queue_referral_emails(db, case, form, now=now, new=True, known_new=True, clocks=quoted)
    final = plan.steps[-1]
    bulk.clocks.extend(_clock_row(case.id, name, final[name], now) for name in _row_order(plan.steps))
    case.status = case_status([plan.wish] if plan.wish else [])
    case.rules_version = CURRENT_RULES_VERSION
    case.updated_at = now
    return rows


def _row_order(steps: list[dict]) -> list[str]:
    """The clock names in the order the per-record path's upserts left the rows: each
    recomputation keeps the rows still computed and appends the new ones."""
    names: list[str] = []
    for step in steps:
        names = [n for n in names if n in step] + [n for n in step if n not in names]
    return names


def _clock_row(case_id: int, name: str, clock, now: datetime) -> dict:
    """A `clocks` row of a new case: the stored columns as every recompute writes them."""
    return {"case_id": case_id, "name": name, **clock_values(clock), "computed_at": now}
