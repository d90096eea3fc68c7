"""Sending one email: the `Mailer` interface, its two implementations, and the typed outcome.

- `SmtpMailer` speaks SMTP through the standard library's `smtplib` (host, port, TLS mode,
  credentials and a socket timeout passed explicitly; one connection reused for a batch). Each
  message goes through MAIL, RCPT and DATA step by step so that what the server said, and *when*
  the connection broke, is known per message: `attempt()` returns a `SendOutcome`, never raises
  for anything the server or the network did. (yagmail, used before, sends with `sendmail()` in
  one call, retries disconnects itself and may return False without a reply code, so it cannot
  tell a refused recipient from a dropped connection, nor a drop before DATA from one after it.)
- `FileMailer` writes each message as an `.eml` file under `$DRS_HOME/outbox/sent/` — the
  embedded default, no mail server needed. File names hold the outbox id (or a hash of the key),
  never an address or a name.

`send()` (both) raises `DeliveryError` unless the message was accepted — for callers that only
need "it went or it did not" (the watchdog, the failure hook).

Outcome classes (`SendOutcome.status`):
- `sent`: the server replied 250 to the end of DATA.
- `unreachable`: the server could not be used *before this message was tried* (refused, timed
  out, dropped, 4xx/5xx greeting, TLS or login refused). Not the message's fault: it is not
  charged an attempt, and the rest of the run is not tried either.
- `transient`: a 4xx reply, or the connection broke during this message's transaction before the
  whole message was handed over (it cannot have been accepted). Retried after a back-off.
- `permanent`: a 5xx reply to RCPT or DATA — this message will never be accepted as it is.
- `unknown`: the whole message was handed over but the final reply never came (dropped or timed
  out). It may have been delivered: retried with the same Message-ID so the receiver can
  de-duplicate.

Messages are built here with the standard library (`build_message`): a plain-text part, an
HTML alternative, and attachments (an `.ics` invite keeps its `method=` parameter).
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from dataclasses import dataclass, field, replace
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Literal, Protocol

from tasks.mail.attachment import Attachment
from tasks.settings import Settings

SMTP_TIMEOUT_SECONDS = 30

SENT, TRANSIENT, PERMANENT, UNKNOWN, UNREACHABLE = "sent", "transient", "permanent", "unknown", "unreachable"
OutcomeStatus = Literal["sent", "transient", "permanent", "unknown", "unreachable"]


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one message: its class, the SMTP reply code and enhanced status code (when
    the server gave one) and a reason in plain words (no address, no name)."""

    status: OutcomeStatus
    reason: str = ""
    smtp_code: int | None = None
    enhanced_status: str | None = None
    sender_refused: bool = False  # the reply was to MAIL FROM (our sender setting), not to the recipient

    @property
    def delivered(self) -> bool:
        return self.status == SENT


class DeliveryError(Exception):
    """The message was not accepted; the text says why (no personal data). `outcome` has the detail."""

    def __init__(self, message: str, outcome: SendOutcome | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome or SendOutcome(TRANSIENT, message)


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


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> None:
        """Deliver `email` or raise `DeliveryError` (or `OSError`)."""

    def close(self) -> None: ...


def attempt_with(mailer: Mailer, email: OutgoingEmail) -> SendOutcome:
    """The typed outcome of sending `email` through any mailer: `mailer.attempt()` when it has one,
    else `send()` with its exception classified (an `OSError` = unreachable)."""
    attempt = getattr(mailer, "attempt", None)
    if attempt is not None:
        return attempt(email)
    try:
        mailer.send(email)
    except DeliveryError as exc:
        return exc.outcome
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (550, b""))
        return _reply_outcome(code, text, "the mail server refused the recipient")
    except smtplib.SMTPResponseException as exc:
        return _reply_outcome(exc.smtp_code, exc.smtp_error, "the mail server refused the message")
    except OSError as exc:
        return SendOutcome(UNREACHABLE, f"the mail server could not be reached ({type(exc).__name__})")
    except Exception as exc:  # noqa: BLE001 — recorded, retried, never lost
        return SendOutcome(TRANSIENT, f"the message could not be sent ({type(exc).__name__})")
    return SendOutcome(SENT)


def eml_name(email: OutgoingEmail) -> str:
    """`<outbox id>-<kind>.eml` for an outbox row, else a hash of the key: never an address or name."""
    kind = re.sub(r"[^a-z0-9\-]", "-", (email.kind or "email").lower())[:40]
    if email.outbox_id is not None:
        return f"outbox-{email.outbox_id:07d}-{kind}.eml"
    seed = email.message_id or email.message_key or make_msgid()
    return f"email-{hashlib.sha256(seed.encode()).hexdigest()[:24]}.eml"


class FileMailer:
    """Writes each message to `folder/outbox-<id>-<kind>.eml` (the embedded default)."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = folder, sender

    def attempt(self, email: OutgoingEmail) -> SendOutcome:
        name = eml_name(email)
        tmp = self.folder / f".{name}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(bytes(build_message(email, self.sender)))
            tmp.replace(self.folder / name)
        except OSError as exc:
            return SendOutcome(TRANSIENT, f"the .eml file could not be written ({type(exc).__name__})")
        return SendOutcome(SENT)

    def send(self, email: OutgoingEmail) -> None:
        outcome = self.attempt(email)
        if not outcome.delivered:
            raise DeliveryError(outcome.reason, outcome)

    def close(self) -> None:
        pass


_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")


def _text(reply: bytes | str | None) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join((reply or "").split())


def enhanced_status_of(reply: bytes | str | None) -> str | None:
    """The RFC 3463 enhanced status code at the start of a reply text (`5.1.1`), if any."""
    match = _ENHANCED.match(_text(reply))
    return match.group(1) if match else None


def server_words(reply: bytes | str | None, limit: int = 160) -> str:
    """The server's reply text, one line, addresses replaced by `<address>` (it often echoes them)."""
    return _ADDRESS.sub("<address>", _text(reply))[:limit]


def _reply_outcome(code: int, reply: bytes | str | None, what: str) -> SendOutcome:
    """4xx = transient, 5xx = permanent; anything else (a nonsense code) is transient."""
    status = PERMANENT if 500 <= code < 600 else TRANSIENT
    enhanced = enhanced_status_of(reply)
    later = "it will not be retried" if status == PERMANENT else "it will be tried again later"
    words = server_words(reply)
    reason = f"{what} ({code}{' ' + enhanced if enhanced else ''}); {later}" + (f": {words}" if words else "")
    return SendOutcome(status, reason, code, enhanced)


def _dot_stuffed(payload: bytes) -> bytes:
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", payload)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class SmtpMailer:
    """SMTP through `smtplib`; one connection reused for a batch. `attempt()` gives a `SendOutcome`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._tls: ssl.SSLContext | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_user and not s.smtp_password:
            raise smtplib.SMTPException("DRS_SMTP_USER is set but DRS_SMTP_PASSWORD is not")
        if s.smtp_security != "none" and self._tls is None:  # loading the CA store costs ~50 ms: once
            self._tls = ssl.create_default_context()
        context = self._tls
        if s.smtp_security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            code, reply = smtp.ehlo()
            if not 200 <= code < 300:
                raise smtplib.SMTPResponseException(code, reply)
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
        except BaseException:
            _abandon(smtp, polite=False)
            raise
        self._smtp = smtp
        return smtp

    def attempt(self, email: OutgoingEmail) -> SendOutcome:
        payload = _dot_stuffed(build_message(email, self.settings.mail_from).as_bytes())
        eight_bit = any(byte > 127 for byte in payload)
        for _ in range(2):  # a reused connection the server closed while idle: reconnect once
            fresh = self._smtp is None
            if fresh:
                try:
                    self._connect()
                except smtplib.SMTPResponseException as exc:
                    self._drop()
                    code, enhanced = exc.smtp_code, enhanced_status_of(exc.smtp_error)
                    words = server_words(exc.smtp_error)
                    return SendOutcome(
                        UNREACHABLE,
                        f"the mail server refused the connection or the login "
                        f"({code}{' ' + enhanced if enhanced else ''})" + (f": {words}" if words else ""),
                        code,
                        enhanced,
                    )
                except (OSError, smtplib.SMTPException) as exc:
                    self._drop()
                    detail = str(exc) if "DRS_SMTP" in str(exc) else type(exc).__name__
                    return SendOutcome(UNREACHABLE, f"the mail server could not be reached or used ({detail})")
            smtp = self._smtp
            assert smtp is not None
            options = ["BODY=8BITMIME"] if eight_bit and smtp.has_extn("8bitmime") else []
            try:
                code, reply = smtp.mail(self.settings.mail_from, options)
            except (OSError, smtplib.SMTPServerDisconnected):
                self._drop()
                if fresh:
                    return SendOutcome(
                        UNREACHABLE, "the mail server closed the connection before the message was tried"
                    )
                continue
            break
        else:  # pragma: no cover - the loop breaks or returns
            return SendOutcome(UNREACHABLE, "the mail server closed the connection")
        if code != 250:
            return replace(
                self._refused(code, reply, "the mail server refused the sender (check DRS_MAIL_FROM)", permanent=False),
                sender_refused=True,
            )
        try:
            code, reply = smtp.rcpt(email.to)
            if code not in (250, 251):
                return self._refused(code, reply, "the mail server refused the recipient")
            code, reply = smtp.docmd("DATA")
            if code != 354:
                return self._refused(code, reply, "the mail server refused the message")
            smtp.send(payload)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._drop()
            return SendOutcome(
                TRANSIENT, f"the connection broke before the message was handed over ({type(exc).__name__})"
            )
        try:
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._drop()
            return SendOutcome(
                UNKNOWN,
                "the message was handed over but the mail server did not confirm it "
                f"({type(exc).__name__}); it is sent again with the same Message-ID",
            )
        if code == 250:
            return SendOutcome(SENT, "", 250, enhanced_status_of(reply))
        return self._refused(code, reply, "the mail server refused the message")

    def _refused(self, code: int, reply: bytes, what: str, *, permanent: bool = True) -> SendOutcome:
        """A non-success reply: reset the transaction (the connection stays for the next message)."""
        outcome = _reply_outcome(code, reply, what)
        if not permanent and outcome.status == PERMANENT:
            outcome = SendOutcome(
                TRANSIENT,
                outcome.reason.replace("it will not be retried", "it will be tried again later"),
                outcome.smtp_code,
                outcome.enhanced_status,
            )
        if code == 421 or self._smtp is None:
            self._drop()
        else:
            try:
                self._smtp.rset()
            except (OSError, smtplib.SMTPException):
                self._drop()
        return outcome

    def send(self, email: OutgoingEmail) -> None:
        outcome = self.attempt(email)
        if not outcome.delivered:
            raise DeliveryError(outcome.reason, outcome)

    def close(self) -> None:
        """End the batch: QUIT politely (the connection is known to work), then close."""
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            _abandon(smtp, polite=True)

    def _drop(self) -> None:
        """After an error: close the socket without waiting on a server that may be hung."""
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            _abandon(smtp, polite=False)


def _abandon(smtp: smtplib.SMTP, *, polite: bool = False) -> None:
    try:
        if polite:
            smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        try:
            smtp.close()
        except OSError:
            pass


def mailer_from_settings(settings: Settings) -> Mailer:
    """`SmtpMailer` when `DRS_SMTP_HOST` is set, else `FileMailer` into `outbox/sent/`."""
    if settings.smtp_host:
        return SmtpMailer(settings)
    return FileMailer(settings.outbox_dir / "sent", settings.mail_from)
