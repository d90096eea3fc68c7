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
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol

from tasks.mail.message import MESSAGE_POLICY, OutgoingEmail, build_message, sender_domain
from tasks.mail.outcomes import (
    PERMANENT,
    SENT,
    TRANSIENT,
    UNKNOWN,
    UNREACHABLE,
    DeliveryError,
    OutcomeStatus,
    SendOutcome,
    enhanced_status_of,
    reply_outcome,
    server_words,
)
from tasks.mail.smtp import SMTP_TIMEOUT_SECONDS, SmtpMailer
from tasks.settings import Settings

__all__ = [
    "MESSAGE_POLICY",
    "PERMANENT",
    "SENT",
    "SMTP_TIMEOUT_SECONDS",
    "TRANSIENT",
    "UNKNOWN",
    "UNREACHABLE",
    "DeliveryError",
    "FileMailer",
    "Mailer",
    "OutcomeStatus",
    "OutgoingEmail",
    "SendOutcome",
    "SmtpMailer",
    "attempt_with",
    "build_message",
    "eml_name",
    "enhanced_status_of",
    "mailer_from_settings",
    "sender_domain",
    "server_words",
]


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
        return reply_outcome(code, text, "the mail server refused the recipient")
    except smtplib.SMTPResponseException as exc:
        return reply_outcome(exc.smtp_code, exc.smtp_error, "the mail server refused the message")
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


def mailer_from_settings(settings: Settings) -> Mailer:
    """`SmtpMailer` when `DRS_SMTP_HOST` is set, else `FileMailer` into `outbox/sent/`."""
    if settings.smtp_host:
        return SmtpMailer(settings)
    return FileMailer(settings.outbox_dir / "sent", settings.mail_from)
