"""Issuing a mediation certificate: the PDF (fpdf2), the file, the email to the family, the event.

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

import os
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.db import Case, Certificate
from models.domain.certificates import (
    CERTIFICATE_TRIGGERS,
    DECISIONS,
    TRIGGER_FOR_TYPE,
    TriggerEvent,
    certificate_number,
    latest_trigger,
    wording,
)
from models.domain.clocks import certificate_needed
from models.domain.vocabulary import CERTIFICATE_TYPES
from tasks.cases.casework import CaseworkError, audit, record_event
from tasks.mail.attachment import Attachment
from tasks.mail.layout import SERVICE_NAME, long_date
from tasks.mail.outbox import queue_email
from tasks.settings import get_settings

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


@dataclass(frozen=True)
class PendingCertificate:
    """A certificate that is due, as the monitor sees it (plain values)."""

    case_id: int
    case_ref: str
    type: str
    trigger_on: date


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


def hold_for_approval(db: Session, case: Case, cert_type: str, trigger_on: date, now: datetime) -> Certificate:
    """Record that this certificate waits for an admin's approval (idempotent); returns the row."""
    row = find_row(db, case.id, cert_type, trigger_on)
    if row is None:
        row = Certificate(
            number=next_number(db, trigger_on.year),
            case_id=case.id,
            type=cert_type,
            trigger_on=trigger_on,
            issued_on=trigger_on,
            status="awaiting_approval",
            created_at=now,
        )
        db.add(row)
        db.flush()
        audit(
            db,
            "flow:deadline-monitor",
            "certificate:awaiting-approval",
            case.id,
            now,
            {"number": row.number, "type": cert_type, "trigger_on": trigger_on.isoformat()},
        )
    return row


def refuse(
    db: Session, case: Case, cert_type: str, trigger_on: date, now: datetime, note: str, actor: str
) -> Certificate:
    """Record an admin's refusal of an automatic certificate (the monitor will not ask again)."""
    row = hold_for_approval(db, case, cert_type, trigger_on, now)
    row.status, row.approval_note = "refused", note[:500]
    audit(db, actor, "certificate:refused", case.id, now, {"number": row.number, "type": cert_type})
    return row


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
    adviser = adviser or DEFAULT_ADVISER
    try:  # before anything is written: a name no font can draw stops this certificate, and the team is told
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
    text = wording(
        cert_type,
        trigger_on=trigger_on,
        issued_on=issued_on,
        decision_type=case.decision_type,
        letter_sent_on=case.decision_letter_sent_on,
        appeal_deadline=deadline,
    )
    pdf = render_pdf(
        number=row.number,
        case=case,
        cert_type=cert_type,
        trigger_on=trigger_on,
        issued_on=issued_on,
        adviser=adviser,
        text=text,
    )
    path = _store(row.number, pdf)
    row.pdf_path = str(path)
    emailed_to = _email(db, case, row.number, text, deadline, pdf, now)
    audit(
        db,
        actor,
        "certificate:issued",
        case.id,
        now,
        {
            "number": row.number,
            "type": cert_type,
            "trigger_on": trigger_on.isoformat(),
            "issued_on": issued_on.isoformat(),
        },
    )
    return IssuedCertificate(case.ref, row.number, cert_type, trigger_on, issued_on, str(path), deadline, emailed_to)


def tell_team_not_printable(case_ref: str, cert_type: str, trigger_on: date, reason: str, now: datetime) -> None:
    """Queue one email to the team (once per certificate: key `certificate-not-printable:<ref>:<type>:<trigger>`)
    saying this certificate could not be printed and why, in a transaction of its own (the
    caller's rolls back). The row carries no case id, so it never waits on the caller's lock of
    the case. A failure here is logged with the case reference only and never hides the error."""
    import logging

    from models.domain.alerts import TEAM, not_before_for
    from tasks.db import unit_of_work
    from tasks.deadlines.calendar_source import working_calendar

    settings = get_settings()
    try:
        with unit_of_work() as db:
            queue_email(
                db,
                key=f"certificate-not-printable:{case_ref}:{cert_type}:{trigger_on.isoformat()}",
                kind="certificate-not-printable",
                to=settings.team_email,
                now=now,
                not_before=not_before_for(TEAM, now.astimezone(ZoneInfo(settings.timezone)), working_calendar()),
                subject=f"[{case_ref}] {cert_type} certificate not issued: it cannot be printed",
                text=(
                    f"The {cert_type} certificate for case {case_ref} (trigger of {long_date(trigger_on)}) was "
                    f"not issued, and nothing was sent to the family.\n\nReason: {reason}\n\nPlease check the "
                    "names on the case. If they are right, issue the certificate by hand and record "
                    "certificate-issued on the case."
                ),
            )
            db.commit()
    except Exception as exc:  # noqa: BLE001 - telling the team must never hide the certificate error itself
        logging.getLogger(__name__).error(
            "could not queue the not-printable notice for %s (%s)", case_ref, type(exc).__name__
        )


def _store(number: str, pdf: bytes) -> Path:
    folder = get_settings().certificates_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{number}.pdf"
    tmp = path.with_suffix(".pdf.tmp")
    tmp.write_bytes(pdf)
    os.replace(tmp, path)
    return path


def _email(db: Session, case: Case, number: str, text, deadline: date | None, pdf: bytes, now: datetime) -> str:
    from models.domain.alerts import FAMILY, TEAM, not_before_for
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.deadlines.emails import certificate_email

    attachment = Attachment(f"mediation-certificate-{number}.pdf", "application/pdf", pdf)
    local_now = now.astimezone(ZoneInfo(get_settings().timezone))
    if case.requester_email:
        subject, body, html = certificate_email(
            case_ref=case.ref,
            number=number,
            title=text.title,
            requester_name=case.requester_name,
            appeal_meaning=text.appeal_meaning,
            appeal_deadline=deadline,
        )
        queue_email(
            db,
            key=f"certificate:{number}",
            kind="certificate",
            to=case.requester_email,
            subject=subject,
            text=body,
            html=html,
            now=now,
            case_id=case.id,
            attachments=[attachment],
            not_before=not_before_for(FAMILY, local_now, working_calendar()),
        )  # quiet hours
        return "family"
    settings = get_settings()
    queue_email(
        db,
        key=f"certificate:{number}",
        kind="certificate-no-email",
        to=settings.team_email,
        now=now,
        case_id=case.id,
        attachments=[attachment],
        not_before=not_before_for(TEAM, local_now, working_calendar()),
        subject=f"[{case.ref}] certificate {number} issued: the family has no email address",
        text=(
            f"Certificate {number} for case {case.ref} was issued, but the case has no email address for "
            "the family. Please send the attached certificate by post today."
        ),
    )
    return "team"


def _blocks(
    *, number: str, case: Case, cert_type: str, issued_on: date, adviser: str, text
) -> list[tuple[str, str, str]]:
    """What the certificate says, in order: (key, kind, text); kind is a layout style."""
    decision_words = DECISIONS.get(case.decision_type or "", case.decision_type or "not recorded")
    letter = long_date(case.decision_letter_sent_on) if case.decision_letter_sent_on else "not recorded"
    blocks = [
        ("service", "small", SERVICE_NAME),
        ("heading", "h1", "Mediation certificate"),
        ("title", "h2", text.title),
    ]
    rows = [
        ("Certificate number", number),
        ("Date of issue", long_date(issued_on)),
        ("Type", cert_type),
        ("Our reference", case.ref),
        ("Parent or young person", case.requester_name or "not recorded"),
        ("Child or young person", case.child_name or "not recorded"),
        ("Local authority", case.local_authority.name),
        ("Decision", f"{decision_words[:1].upper()}{decision_words[1:]}"),
        ("Date of the decision letter", letter),
        ("Mediation adviser", adviser),
    ]
    for label, value in rows:
        blocks += [(f"label:{label}", "label", label), (label, "value", value)]
    for heading, body in (
        ("What happened", f"{text.decision} {text.statement}"),
        ("What this means for your appeal deadline", text.appeal_meaning),
        ("Legal basis", text.legal_basis),
    ):
        blocks += [(f"heading:{heading}", "h3", heading), (f"body:{heading}", "body", body)]
    blocks.append(("closing", "closing", f"Issued by {adviser}, for the {SERVICE_NAME}, on {long_date(issued_on)}."))
    return blocks


def check_drawable(case: Case, **layout) -> None:
    """Raise `CertificateError` (case reference and field only) when any character of the
    certificate cannot be drawn by the embedded fonts."""
    from tasks.certificates.typefaces import UndrawableText, plan_fonts

    try:
        plan_fonts({key: value for key, _, value in _blocks(case=case, **layout)})
    except UndrawableText as exc:
        raise CertificateError(
            f"{case.ref}: the certificate cannot be printed: {exc}; nothing was issued or "
            "sent (correct the name on the case, or issue this certificate by hand)"
        ) from None


def render_pdf(
    *, number: str, case: Case, cert_type: str, trigger_on: date, issued_on: date, adviser: str, text
) -> bytes:
    """The certificate as PDF bytes (A4, one page): service, adviser, family, LA, decision, type,
    number, date of issue, and what it means for the appeal deadline.

    Every character is drawn with an embedded Noto font (`tasks.certificates.typefaces`), right-to-left
    and complex scripts shaped by HarfBuzz. Raises `CertificateError` when a character cannot be
    drawn (checked before rendering, and again on the fonts' own record after): never a blank.
    The font libraries' logs and warnings are silenced while rendering (they would carry names).
    """
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

    from tasks.certificates.typefaces import FONT_DIR, UndrawableText, plan_fonts, quiet_fonts

    blocks = _blocks(number=number, case=case, cert_type=cert_type, issued_on=issued_on, adviser=adviser, text=text)
    try:
        plan = plan_fonts({key: value for key, _, value in blocks})
    except UndrawableText as exc:
        raise CertificateError(f"{case.ref}: the certificate cannot be printed: {exc}") from None
    with quiet_fonts():
        pdf = FPDF(format="A4")
        pdf.set_title(f"Mediation certificate {number}")
        pdf.set_author(SERVICE_NAME)
        pdf.set_creation_date(datetime.combine(issued_on, time(12, 0), tzinfo=ZoneInfo("UTC")))
        pdf.set_margins(20, 20, 20)
        for filename in plan.fonts:
            pdf.add_font(Path(filename).stem, "", str(FONT_DIR / filename))
        font = Path(plan.fonts[0]).stem
        pdf.set_fallback_fonts([Path(f).stem for f in plan.fonts[1:]], exact_match=False)
        pdf.set_text_shaping(True)
        pdf.add_page()
        width = pdf.w - pdf.l_margin - pdf.r_margin
        styles = {
            "small": (11, 6, 2),
            "h1": (18, 9, 0),
            "h2": (13, 7, 4),
            "h3": (13, 8, 0),
            "body": (11, 6, 3),
            "closing": (11, 6, 0),
        }
        for key, kind, _ in blocks:
            value = plan.fields[key]
            if kind == "label":
                pdf.set_font(font, size=11)
                pdf.multi_cell(60, 7, value, new_x="RIGHT", new_y="TOP")
                continue
            if kind == "value":
                pdf.multi_cell(width - 60, 7, value, new_x="LMARGIN", new_y="NEXT")
                if key == "Mediation adviser":
                    pdf.ln(4)
                continue
            size, height, after = styles[kind]
            if kind == "closing":
                pdf.ln(4)
            pdf.set_font(font, size=size)
            pdf.multi_cell(width, height, value, new_x="LMARGIN", new_y="NEXT")
            if after:
                pdf.ln(after)
        data = bytes(pdf.output())
    if any(isinstance(f, TTFFont) and f.missing_glyphs for f in pdf.fonts.values()):
        raise CertificateError(
            f"{case.ref}: the certificate cannot be printed: a character has no glyph in the certificate fonts"
        )
    return data
