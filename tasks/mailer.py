"""Sending one email: the one-method `Mailer` interface and its two implementations.

- `SmtpMailer` sends through yagmail's SMTP client with host, port, TLS mode, credentials and a
  socket timeout passed explicitly; it *raises* on any failure (yagmail itself may return False
  after repeated disconnects, or prompt for a password when none is given — neither is allowed
  unattended, so login is skipped when no user is configured and every result is checked).
- `FileMailer` writes each message as an `.eml` file under `$DRS_HOME/outbox/sent/` — the
  embedded default, no mail server needed.

Messages are built here with the standard library (`build_message`): a plain-text part, an
HTML alternative, and attachments (an `.ics` invite keeps its `method=` parameter).
"""
from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from tasks.settings import Settings

SMTP_TIMEOUT_SECONDS = 30


class DeliveryError(Exception):
    """The message was not accepted; the text says why (no personal data beyond the address)."""


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str
    mime_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[OutgoingAttachment, ...] = field(default_factory=tuple)
    message_key: str | None = None  # the outbox key, used for a stable Message-ID


#: Headers are not folded below RFC 5322's hard limit, so long subjects arrive as written.
MESSAGE_POLICY = policy.SMTP.clone(max_line_length=998)


def build_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    """The MIME message for `email` from `sender` (exactly one recipient)."""
    msg = EmailMessage(policy=MESSAGE_POLICY)
    msg["From"] = sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Date"] = formatdate(localtime=False)
    domain = sender.rsplit("@", 1)[-1] or "drs-flows.local"
    if email.message_key:
        safe = re.sub(r"[^A-Za-z0-9.\-]", ".", email.message_key)[:120]
        msg["Message-ID"] = f"<{safe}@{domain}>"
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


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> None:
        """Deliver `email` or raise `DeliveryError` (or `OSError`)."""

    def close(self) -> None: ...


class FileMailer:
    """Writes each message to `folder/<n>-<key>.eml` (the embedded default)."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = folder, sender

    def send(self, email: OutgoingEmail) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9.\-]", "_", email.message_key or make_msgid())[:150] + ".eml"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(bytes(build_message(email, self.sender)))
        tmp.replace(self.folder / name)

    def close(self) -> None:
        pass


class SmtpMailer:
    """SMTP through yagmail; one connection reused for a batch. Raises on every failure."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client = None

    def _connect(self):
        import yagmail

        s = self.settings
        login = bool(s.smtp_user)
        if login and not s.smtp_password:  # yagmail would try the keyring, then prompt: a hang
            raise DeliveryError("DRS_SMTP_USER is set but DRS_SMTP_PASSWORD is not")
        client = yagmail.SMTP(
            user=s.smtp_user or None,
            password=s.smtp_password if login else None,
            host=s.smtp_host,
            port=s.smtp_port,
            smtp_ssl=s.smtp_security == "ssl",
            smtp_starttls=s.smtp_security == "starttls",
            smtp_skip_login=not login,
            soft_email_validation=False,
            timeout=SMTP_TIMEOUT_SECONDS,
        )
        try:
            client.login()
        except Exception:
            client.close()
            raise
        self._client = client
        return client

    def send(self, email: OutgoingEmail) -> None:
        client = self._client or self._connect()
        message = build_message(email, self.settings.mail_from)
        try:
            refused = client.smtp.sendmail(self.settings.mail_from, [email.to], message.as_string())
        except smtplib.SMTPServerDisconnected:
            self.close()
            client = self._connect()
            refused = client.smtp.sendmail(self.settings.mail_from, [email.to], message.as_string())
        except smtplib.SMTPException as exc:
            raise DeliveryError(f"SMTP refused the message: {exc}") from None
        if refused:
            raise DeliveryError(f"SMTP refused the recipient: {refused}")

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None


def mailer_from_settings(settings: Settings) -> Mailer:
    """`SmtpMailer` when `DRS_SMTP_HOST` is set, else `FileMailer` into `outbox/sent/`."""
    if settings.smtp_host:
        return SmtpMailer(settings)
    return FileMailer(settings.outbox_dir / "sent", settings.mail_from)
