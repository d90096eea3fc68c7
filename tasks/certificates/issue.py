"""Issuing a mediation certificate: the checks, the row, the event, then the PDF (`tasks.certificates.pdf`),
the file and the email (`tasks.certificates.sending`).

`issue(db, case, issued_on, ...)` does it all in the caller's transaction (the caller
commits; `issue_certificate(case_ref, on, ...)` is the same in a transaction of its own): it records `certificate-issued` through `tasks.cases.casework.record_event` (which
meets `certificate_due` and moves `appeal_deadline`), writes the PDF under
`$DRS_HOME/certificates/<number>.pdf`, and queues one email to the family with the PDF attached
(key `certificate:<number>`; to the team instead when the family has no email address).

Raises `CertificateError` (a `CaseworkError`) with a one-line reason when no certificate is
needed, no trigger is recorded, the date is wrong, or one was already issued for the trigger.
Unique `(case_id, type, trigger_on)` in the `certificates` table is the last guard.

Names in any script are drawn with the embedded Noto fonts (`tasks.certificates.typefaces`). Before
anything is written, every character of the certificate is checked; one that no font can draw
raises `CertificateError` (case reference and field only), and the team is emailed once about it
in a transaction of its own (`tell_team_not_printable`): no PDF, no email to the family, no event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.db import Case, Certificate
from models.domain.certificates import (
    CERTIFICATE_TRIGGERS,
    TRIGGER_FOR_TYPE,
    TriggerEvent,
    certificate_number,
    latest_trigger,
    wording,
)
from models.domain.clocks import certificate_needed
from models.domain.vocabulary import CERTIFICATE_TYPES
from tasks.cases.casework import CaseworkError, audit, record_event
from tasks.certificates.pdf import check_drawable, render_pdf
from tasks.certificates.sending import email_certificate, store_pdf, tell_team_not_printable

DEFAULT_ADVISER = "Mediation adviser"


class CertificateError(CaseworkError):
    """A certificate that cannot be issued; the message says why (case reference only)."""


@dataclass(frozen=True)
class IssuedCertificate:
    case_ref: str
    number: str
    type: str
    trigger_on: date
    issued_on: date
    pdf_path: str
    appeal_deadline: date | None
    emailed_to: str  # "family" or "team"

    def as_dict(self) -> dict:
        return {
            "case_ref": self.case_ref,
            "number": self.number,
            "type": self.type,
            "trigger_on": self.trigger_on.isoformat(),
            "issued_on": self.issued_on.isoformat(),
            "pdf": self.pdf_path,
            "appeal_deadline": self.appeal_deadline.isoformat() if self.appeal_deadline else None,
            "emailed_to": self.emailed_to,
        }


def trigger_for(case: Case, cert_type: str | None = None) -> tuple[str, date]:
    """(type, trigger date) of the certificate `case` needs, or `CertificateError` saying why none."""
    if cert_type is not None and cert_type not in CERTIFICATE_TYPES:
        raise CertificateError(
            f"unknown certificate type {cert_type!r} (expected one of: {', '.join(CERTIFICATE_TYPES)})"
        )
    if case.service != "mediation":
        raise CertificateError(f"{case.ref} is a disagreement resolution case: no mediation certificate is needed")
    if not _needed(case):
        raise CertificateError(
            f"{case.ref}: no certificate is needed (the appeal is about section I only: school or placement)"
        )
    events = [TriggerEvent(e.event, e.on) for e in case.events]
    trigger = latest_trigger(events, cert_type)
    if trigger is None:
        if cert_type:
            raise CertificateError(
                f"{case.ref}: no {TRIGGER_FOR_TYPE[cert_type]} event is recorded, so there is no {cert_type} certificate to issue"
            )
        raise CertificateError(
            f"{case.ref}: nothing gives a certificate yet (record mediation-declined, withdrawn, "
            "la-cannot-arrange or mediation-concluded first)"
        )
    return CERTIFICATE_TRIGGERS[trigger.name], trigger.on


def _needed(case: Case) -> bool:
    from models.domain.clocks import CaseFacts

    return certificate_needed(
        CaseFacts(
            service=case.service,
            decision_type=case.decision_type,
            letter_sent_on=case.decision_letter_sent_on,
            received_on=case.received_on,
            sections=tuple(case.sections or ()),
        )
    )


def next_number(db: Session, year: int) -> str:
    prefix = f"MC-{year}-"
    last = db.scalar(select(func.max(Certificate.number)).where(Certificate.number.like(prefix + "%")))
    return certificate_number(year, int(last.rsplit("-", 1)[1]) + 1 if last else 1)


def find_row(db: Session, case_id: int, cert_type: str, trigger_on: date) -> Certificate | None:
    return db.scalar(
        select(Certificate).where(
            Certificate.case_id == case_id, Certificate.type == cert_type, Certificate.trigger_on == trigger_on
        )
    )


def issue_certificate(
    case_ref: str,
    on: date,
    *,
    today: date,
    now: datetime,
    actor: str = "cli:certificate",
    cert_type: str | None = None,
    adviser: str | None = None,
) -> dict:
    """Issue the certificate of case `case_ref` dated `on` in a transaction of its own and commit.

    The plain action behind `drs certificate issue` and the `admin-issue-certificate` flow.
    Returns the JSON-able result; raises `CertificateError` / `CaseworkError` with the reason.
    """
    from tasks.cases.casework import get_case
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        case = get_case(db, case_ref, for_update=True)
        issued = issue(db, case, on, today=today, now=now, actor=actor, cert_type=cert_type, adviser=adviser)
        db.commit()
    return issued.as_dict()


def issue(
    db: Session,
    case: Case,
    issued_on: date,
    *,
    today: date,
    now: datetime,
    actor: str,
    cert_type: str | None = None,
    adviser: str | None = None,
    approval_note: str | None = None,
) -> IssuedCertificate:
    """Issue `case`'s certificate (type inferred from the latest trigger when not given). Commits nothing."""
    cert_type, trigger_on = trigger_for(case, cert_type)
    row = _refuse_a_wrong_date_or_a_second_one(db, case, cert_type, trigger_on, issued_on, today)
    adviser = adviser or DEFAULT_ADVISER
    _check_printable(case, row, cert_type, trigger_on, issued_on, adviser, now)
    if row is None:
        row = Certificate(
            number=next_number(db, issued_on.year),
            case_id=case.id,
            type=cert_type,
            trigger_on=trigger_on,
            created_at=now,
        )
        db.add(row)
    row.status, row.issued_on, row.adviser = "issued", issued_on, adviser
    if approval_note:
        row.approval_note = approval_note[:500]
    db.flush()
    record_event(
        db,
        case,
        "certificate-issued",
        issued_on,
        now=now,
        today=today,
        recorded_by=actor,
        cert_type=cert_type,
        detail={"certificate": row.number},
    )
    deadline = next((c.due for c in case.clocks if c.name == "appeal_deadline" and c.state != "not_applicable"), None)
    path, emailed_to = _send(db, case, row, adviser, deadline, now)
    detail = {"number": row.number, "type": cert_type, "trigger_on": trigger_on.isoformat()}
    audit(db, actor, "certificate:issued", case.id, now, {**detail, "issued_on": issued_on.isoformat()})
    return IssuedCertificate(case.ref, row.number, cert_type, trigger_on, issued_on, str(path), deadline, emailed_to)


def _refuse_a_wrong_date_or_a_second_one(
    db: Session, case: Case, cert_type: str, trigger_on: date, issued_on: date, today: date
) -> Certificate | None:
    """`CertificateError` for a date of issue before the trigger or in the future, or a certificate
    already issued for this trigger; else the row held for approval (or None)."""
    if issued_on < trigger_on:
        raise CertificateError(
            f"{case.ref}: date of issue {issued_on.isoformat()} is before the trigger "
            f"({TRIGGER_FOR_TYPE[cert_type]} on {trigger_on.isoformat()})"
        )
    if issued_on > today:
        raise CertificateError(f"{case.ref}: date of issue {issued_on.isoformat()} is in the future")
    row = find_row(db, case.id, cert_type, trigger_on)
    if row is not None and row.status == "issued":
        raise CertificateError(
            f"{case.ref}: certificate {row.number} ({cert_type}, for the {TRIGGER_FOR_TYPE[cert_type]} "
            f"of {trigger_on.isoformat()}) was already issued on {row.issued_on.isoformat()}; "
            "a second one for the same trigger is refused"
        )
    already = [
        e for e in case.events if e.event == "certificate-issued" and e.cert_type == cert_type and e.on >= trigger_on
    ]
    if already:
        raise CertificateError(
            f"{case.ref}: a {cert_type} certificate-issued event is already recorded on "
            f"{already[0].on.isoformat()} for the trigger of {trigger_on.isoformat()}; "
            "a second certificate is refused"
        )
    return row


def _check_printable(
    case: Case,
    row: Certificate | None,
    cert_type: str,
    trigger_on: date,
    issued_on: date,
    adviser: str,
    now: datetime,
) -> None:
    """Before anything is written: a name no font can draw stops this certificate, and the team is told."""
    try:
        check_drawable(
            case,
            number=row.number if row else certificate_number(issued_on.year, 0),
            cert_type=cert_type,
            issued_on=issued_on,
            adviser=adviser,
            text=wording(
                cert_type,
                trigger_on=trigger_on,
                issued_on=issued_on,
                decision_type=case.decision_type,
                letter_sent_on=case.decision_letter_sent_on,
                appeal_deadline=None,
            ),
        )
    except CertificateError as exc:
        tell_team_not_printable(case.ref, cert_type, trigger_on, str(exc), now)
        raise


def _send(
    db: Session, case: Case, row: Certificate, adviser: str, deadline: date | None, now: datetime
) -> tuple[Path, str]:
    """Render the PDF, store it, queue its email; returns (path, "family" or "team")."""
    text = wording(
        row.type,
        trigger_on=row.trigger_on,
        issued_on=row.issued_on,
        decision_type=case.decision_type,
        letter_sent_on=case.decision_letter_sent_on,
        appeal_deadline=deadline,
    )
    pdf = render_pdf(
        number=row.number,
        case=case,
        cert_type=row.type,
        trigger_on=row.trigger_on,
        issued_on=row.issued_on,
        adviser=adviser,
        text=text,
    )
    path = store_pdf(row.number, pdf)
    row.pdf_path = str(path)
    return path, email_certificate(db, case, row.number, text, deadline, pdf, now)
