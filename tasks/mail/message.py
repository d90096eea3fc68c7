"""Building one email with the standard library: a plain-text part, an HTML alternative and
attachments (an `.ics` invite keeps its `method=` parameter); the Message-ID is the outbox row's
own, else derived from its key (`tasks.mail.mailer`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from tasks.mail.attachment import Attachment


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    message_key: str | None = None  # the outbox key (or a watchdog/hook key): a fallback Message-ID
    message_id: str | None = None  # the outbox row's own stored Message-ID (wins over message_key)
    outbox_id: int | None = None  # names the .eml file of the FileMailer
    kind: str | None = None  # the outbox kind (ack, alert, …), also in the .eml file name


#: Headers are not folded below RFC 5322's hard limit, so long subjects arrive as written.
MESSAGE_POLICY = policy.SMTP.clone(max_line_length=998)


def sender_domain(sender: str) -> str:
    return sender.rsplit("@", 1)[-1].strip().strip(">") or "drs-flows.invalid"


def build_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    """The MIME message for `email` from `sender` (exactly one recipient)."""
    msg = EmailMessage(policy=MESSAGE_POLICY)
    msg["From"] = sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Date"] = formatdate(localtime=False)
    domain = sender_domain(sender)
    if email.message_id:
        msg["Message-ID"] = email.message_id
    elif email.message_key:
        digest = hashlib.sha256(email.message_key.encode()).hexdigest()[:24]
        msg["Message-ID"] = f"<key.{digest}@{domain}>"
    else:
        msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(email.text)
    if email.html:
        msg.add_alternative(email.html, subtype="html")
    for att in email.attachments:
        maintype, _, subtype = att.mime_type.partition("/")
        subtype, _, params = subtype.partition(";")
        extra = {}
        for param in params.split(";"):
            if "=" in param:
                k, v = param.split("=", 1)
                extra[k.strip()] = v.strip()
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype.strip(), filename=att.filename, params=extra)
    return msg
