"""THE attachment type: a file carried by an email, from the outbox row to the message sent.

Every producer (session invitations, certificates, claim batches, monthly reports, a bounced
email re-sent to a corrected address) queues `Attachment`s with the email (`tasks.mail.outbox`),
and delivery hands the same type to the mailer (`tasks.mail.mailer.OutgoingEmail`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str  # e.g. "application/pdf"; an .ics invite keeps its "; method=…" parameter
    content: bytes
