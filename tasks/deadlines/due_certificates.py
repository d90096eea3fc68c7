"""Certificates the monitor issues: declined certificates due and not yet issued, held or refused.

`issue_due_certificates` issues each one that needs no approval (each in its own transaction)
and holds the others for an admin's approval when the LA's `certificate_needs_approval` is set.
Each attempt has a typed outcome — `CertificateIssued` or `CertificateNotIssued` (the one-line
reason, case reference only) — never an error string to be parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, select

from models.db import Case, Certificate, Clock, LocalAuthority
from models.domain.clocks import CaseFacts, certificate_needed
from tasks.db import unit_of_work

ACTOR = "flow:deadline-monitor"
APPROVER = "dashboard:approval"


@dataclass(frozen=True)
class CertificateWork:
    case_id: int
    case_ref: str
    type: str
    trigger_on: str  # ISO date (plain values across task boundaries)
    needs_approval: bool


@dataclass(frozen=True)
class CertificateIssued:
    case_ref: str
    number: str


@dataclass(frozen=True)
class CertificateNotIssued:
    """Why one certificate was not issued (one line, case reference only)."""

    case_ref: str
    reason: str

    @property
    def message(self) -> str:
        """The line of `certificate_errors` in the monitor's summary (CONTRACT: `error: <reason>`)."""
        return f"error: {self.reason}"


IssueOutcome = CertificateIssued | CertificateNotIssued


@dataclass(frozen=True)
class DueCertificates:
    """What `issue_due_certificates` did."""

    issued: tuple[str, ...] = ()  # case refs
    errors: tuple[CertificateNotIssued, ...] = ()
    waiting: tuple[CertificateWork, ...] = ()  # held for approval


def needs_certificate(service: str, decision_type: str | None, sections) -> bool:
    return certificate_needed(
        CaseFacts(
            service=service,
            decision_type=decision_type,
            letter_sent_on=None,
            received_on=date.min,
            sections=tuple(sections or ()),
        )
    )


def certificate_work(today: date) -> list[CertificateWork]:
    """Declined certificates due and not yet issued, held or refused: one query over open/missed
    `certificate_due` clocks (their note is the certificate type, `started_on` the trigger date)."""
    held = exists().where(
        Certificate.case_id == Clock.case_id,
        Certificate.type == Clock.note,
        Certificate.trigger_on == Clock.started_on,
        Certificate.status.in_(("issued", "refused")),
    )
    stmt = (
        select(Clock.case_id, Case.ref, Clock.note, Clock.started_on, LocalAuthority.certificate_needs_approval)
        .join(Case, Case.id == Clock.case_id)
        .join(LocalAuthority, LocalAuthority.id == Case.la_id)
        .where(
            Clock.state.in_(("open", "missed")),
            Clock.name == "certificate_due",
            Clock.note == "declined",
            Clock.started_on <= today,
            Case.status != "closed",
            ~held,
        )
        .order_by(Clock.started_on, Case.ref)
    )
    with unit_of_work() as db:
        return [
            CertificateWork(r.case_id, r.ref, r.note, r.started_on.isoformat(), bool(r.certificate_needs_approval))
            for r in db.execute(stmt)
        ]


def issue_one(
    case_id: int,
    today: date,
    now: datetime,
    *,
    actor: str = ACTOR,
    cert_type: str | None = None,
    approval_note: str | None = None,
) -> IssueOutcome:
    """Issue one certificate in its own transaction. One certificate's failure, foreseen or not,
    is its outcome: it never stops the run."""
    from tasks.cases.casework import CaseworkError
    from tasks.certificates.issue import issue

    with unit_of_work() as db:
        case = db.get_one(Case, case_id, with_for_update=db.get_bind().dialect.name == "postgresql")
        ref = case.ref
        try:
            issued = issue(
                db, case, today, today=today, now=now, actor=actor, cert_type=cert_type, approval_note=approval_note
            )
        except CaseworkError as exc:
            return CertificateNotIssued(ref, str(exc))
        except Exception as exc:  # one certificate's unforeseen failure must not stop the run
            db.rollback()
            return CertificateNotIssued(ref, f"{ref}: the certificate could not be issued ({type(exc).__name__})")
        db.commit()
        return CertificateIssued(ref, issued.number)


def hold(work: list[CertificateWork] | tuple[CertificateWork, ...], now: datetime) -> None:
    """Record the certificates that wait for approval (status `awaiting_approval`)."""
    from tasks.certificates.approval import hold_for_approval

    with unit_of_work() as db:
        for item in work:
            hold_for_approval(db, db.get_one(Case, item.case_id), item.type, date.fromisoformat(item.trigger_on), now)
        db.commit()


def issue_due_certificates(today: date, now: datetime) -> DueCertificates:
    """Issue the declined certificates that need no approval; hold the others."""
    work = certificate_work(today)
    waiting = tuple(w for w in work if w.needs_approval)
    outcomes = [issue_one(item.case_id, today, now) for item in work if not item.needs_approval]
    hold(waiting, now)
    return DueCertificates(
        issued=tuple(o.case_ref for o in outcomes if isinstance(o, CertificateIssued)),
        errors=tuple(o for o in outcomes if isinstance(o, CertificateNotIssued)),
        waiting=waiting,
    )


def issue_approved(item: CertificateWork, today: date, now: datetime, reason: str) -> IssueOutcome:
    """Issue one certificate an admin approved (in the dashboard)."""
    return issue_one(
        item.case_id,
        today,
        now,
        actor=APPROVER,
        cert_type=item.type,
        approval_note=f"approved in the dashboard: {reason}"[:500],
    )


def refuse_one(item: CertificateWork, now: datetime, reason: str) -> None:
    """Record that an admin refused an automatic certificate (the monitor will not ask again)."""
    from tasks.certificates.approval import refuse

    with unit_of_work() as db:
        refuse(
            db,
            db.get_one(Case, item.case_id),
            item.type,
            date.fromisoformat(item.trigger_on),
            now,
            f"refused in the dashboard: {reason}",
            APPROVER,
        )
        db.commit()
