"""`SmtpMailer`: SMTP through `smtplib`, one connection reused for a batch, each message taken
through MAIL, RCPT and DATA step by step so that what the server said, and when the connection
broke, is known per message (`tasks.mail.mailer` has the outcome classes)."""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import replace

from tasks.mail.message import OutgoingEmail, build_message
from tasks.mail.outcomes import (
    PERMANENT,
    SENT,
    TRANSIENT,
    UNKNOWN,
    UNREACHABLE,
    DeliveryError,
    SendOutcome,
    enhanced_status_of,
    reply_outcome,
    server_words,
)
from tasks.settings import Settings

SMTP_TIMEOUT_SECONDS = 30


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
        context, host = self._tls, s.smtp_host or ""  # only built when DRS_SMTP_HOST is set
        if s.smtp_security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
        else:
            smtp = smtplib.SMTP(host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            code, reply = smtp.ehlo()
            if not 200 <= code < 300:
                raise smtplib.SMTPResponseException(code, reply)
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value() if s.smtp_password else "")
        except BaseException:
            _abandon(smtp, polite=False)
            raise
        self._smtp = smtp
        return smtp

    def attempt(self, email: OutgoingEmail) -> SendOutcome:
        payload = _dot_stuffed(build_message(email, self.settings.mail_from).as_bytes())
        opened = self._mail_from(eight_bit=not payload.isascii())
        if isinstance(opened, SendOutcome):
            return opened
        smtp, code, reply = opened
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

    def _mail_from(self, *, eight_bit: bool) -> tuple[smtplib.SMTP, int, bytes] | SendOutcome:
        """Start a transaction (MAIL FROM) on the batch's connection, opening it when needed: the
        connection and the server's reply, or the outcome when the server could not be used."""
        for _ in range(2):  # a reused connection the server closed while idle: reconnect once
            fresh = self._smtp is None
            if fresh:
                refused = self._open()
                if refused is not None:
                    return refused
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
            return smtp, code, reply
        return SendOutcome(UNREACHABLE, "the mail server closed the connection")  # pragma: no cover

    def _open(self) -> SendOutcome | None:
        """Connect (and log in); None when connected, else why the server cannot be used."""
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
        return None

    def _refused(self, code: int, reply: bytes, what: str, *, permanent: bool = True) -> SendOutcome:
        """A non-success reply: reset the transaction (the connection stays for the next message)."""
        outcome = reply_outcome(code, reply, what)
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
