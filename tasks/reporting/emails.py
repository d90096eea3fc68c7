"""Queue a month's workbooks by email (outbox rows; the delivery sweep sends them).

One recipient each: the full workbook to `DRS_TEAM_EMAIL`; each LA's own workbook to its
`contract_email` — or, when the register has none, its `sen_team_email` (the only LA address
the register always has); an LA with neither is reported in `no_recipient`. Several LAs with one
address get one email with each LA's workbook. Keys `monthly-report:<YYYY-MM>:<address token>`:
a second run queues nothing; `resend=True` queues again under `…:resend-<n>`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import LocalAuthority, OutboxEmail
from reports.monthly.rows import parse_month
from tasks.reporting.workbooks import Workbooks
from tasks.settings import get_settings

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND = "monthly-report"


@dataclass(frozen=True)
class Recipient:
    address: str
    la_codes: tuple[str, ...]  # () = the team (full workbook)


@dataclass(frozen=True)
class EmailsQueued:
    """What `queue_monthly_emails` did: counts, LAs with no address, and one entry per recipient."""

    queued: int = 0
    already_queued: int = 0
    no_recipient: tuple[str, ...] = ()
    recipients: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "already_queued": self.already_queued,
            "no_recipient": list(self.no_recipient),
            "recipients": [dict(r, local_authorities=list(r["local_authorities"])) for r in self.recipients],
        }


def _next_key(db: Session, base: str, resend: bool) -> str:
    if not resend:
        return base
    taken = db.scalars(select(OutboxEmail.key).where(OutboxEmail.key.like(base.replace("%", "") + "%"))).all()
    return f"{base}:resend-{sum(1 for k in taken if k == base or k.startswith(base + ':resend-'))}"


def recipients(las: dict[str, LocalAuthority], codes: list[str]) -> tuple[list[Recipient], list[str]]:
    """The team first, then one recipient per LA address (sorted); and the LAs with no address."""
    by_address: dict[str, list[str]] = defaultdict(list)
    missing = []
    for code in codes:
        la = las.get(code)
        address = (la.contract_email or la.sen_team_email) if la else None
        if address:
            by_address[address.strip().lower()].append(code)
        else:
            missing.append(code)
    team = Recipient(get_settings().team_email.strip().lower(), ())
    return [team, *(Recipient(a, tuple(c)) for a, c in sorted(by_address.items()))], missing


def _message(
    r: Recipient, las: dict[str, LocalAuthority], books: Workbooks, title: str
) -> tuple[str, list[str], list[Path]]:
    """(heading, paragraphs, files) of the email to `r`."""
    if not r.la_codes:
        return (
            f"Monthly report: {title}",
            [
                f"Attached is the full monthly report for {title}, every local authority together "
                f"and each one on its own sheet. Each LA's contract contact receives their own "
                f"workbook separately."
            ],
            [Path(books.workbook)],
        )
    names = ", ".join(las[c].name for c in r.la_codes)
    paragraphs = [
        f"Attached is the mediation and disagreement resolution service's report for {title} for "
        f"{names}: referrals, families' decisions, certificates, meetings, outcomes, cancellations "
        f"and expense claims, for the month and the financial year to date.",
        "Each figure shows its count and what it is out of; the cover sheet explains how each is "
        "defined. Cases appear by reference only.",
    ]
    return f"Monthly report for {names}: {title}", paragraphs, [Path(books.la_workbooks[c]) for c in r.la_codes]


def queue_monthly_emails(month: str, books: Workbooks, now: datetime, resend: bool = False) -> EmailsQueued:
    """Queue the month's emails (see the module docstring)."""
    from tasks.db import unit_of_work
    from tasks.mail.attachment import Attachment
    from tasks.mail.layout import render_email
    from tasks.mail.outbox import existing_keys, queue_email
    from tasks.privacy.keys import address_token

    title = parse_month(month).strftime("%B %Y")
    codes = list(books.la_workbooks)
    counts = {"queued": 0, "already_queued": 0}
    done = []
    with unit_of_work() as db:
        las = {la.code: la for la in db.scalars(select(LocalAuthority).where(LocalAuthority.code.in_(codes)))}
        to, missing = recipients(las, codes)
        # a second run: the emails queued before are neither rendered nor their files read again
        bases = [f"{KIND}:{month}:{address_token(r.address)}" for r in to]
        queued_before = set() if resend else existing_keys(db, bases)
        for r, base in zip(to, bases):
            key = _next_key(db, base, resend)
            row = None
            if key not in queued_before:
                heading, paragraphs, files = _message(r, las, books, title)
                text, html = render_email(heading, paragraphs, footer=None)
                attachments = [Attachment(f.name, XLSX, f.read_bytes()) for f in files]
                row = queue_email(
                    db, key=key, kind=KIND, to=r.address, subject=heading, text=text, html=html, now=now,
                    attachments=attachments,
                )  # fmt: skip
            counts["queued" if row is not None else "already_queued"] += 1
            who = list(r.la_codes) or ["ALL"]
            done.append({"to": r.address, "local_authorities": who, "key": key, "queued": row is not None})
        db.commit()
    return EmailsQueued(counts["queued"], counts["already_queued"], tuple(missing), tuple(done))
