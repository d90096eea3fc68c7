"""A certificate leaves the service: its PDF stored under `$DRS_HOME/certificates/<number>.pdf`, one
email to the family with the PDF attached (key `certificate:<number>`; to the team instead when the
family has no email address), and the team's notice when a certificate cannot be printed.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.db import Case
from tasks.mail.attachment import Attachment
from tasks.mail.layout import long_date
from tasks.mail.outbox import queue_email
from tasks.settings import get_settings


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


def store_pdf(number: str, pdf: bytes) -> Path:
    folder = get_settings().certificates_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{number}.pdf"
    tmp = path.with_suffix(".pdf.tmp")
    tmp.write_bytes(pdf)
    os.replace(tmp, path)
    return path


def email_certificate(
    db: Session, case: Case, number: str, text, deadline: date | None, pdf: bytes, now: datetime
) -> str:
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
