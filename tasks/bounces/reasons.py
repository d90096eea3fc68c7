"""What a bounce is about, in plain words: which emails are statutory or escalated, and the reason
for an RFC 3463 enhanced status ("5.1.1" → "the mailbox does not exist") — never the server's
own text, which names the address. Also the status of a recipient the relay refused during
delivery (`smtp_rejection`, the synchronous path)."""

from __future__ import annotations

import re

#: emails the law (or the service's statutory duties) needs the recipient to receive; a correction re-sends them
STATUTORY_KINDS = frozenset(
    {
        "certificate",
        "alert-appeal-2-weeks",
        "alert-appeal-3-wd",
        "acknowledgement",
        "la-mediation-request",
        "session-invite",
        "session-update",
        "session-cancel",
    }
)
#: a bounce of these is escalated to the team at once (the family's appeal is at stake)
ESCALATE_KINDS = frozenset({"certificate", "alert-appeal-2-weeks", "alert-appeal-3-wd"})
KIND_WORDS = {
    "certificate": "mediation certificate",
    "alert-appeal-2-weeks": "appeal deadline reminder",
    "alert-appeal-3-wd": "appeal deadline reminder",
    "acknowledgement": "acknowledgement",
    "la-mediation-request": "mediation request to the LA",
    "claim-batch": "claims batch",
    "session-invite": "meeting invitation",
    "session-update": "meeting change",
    "session-cancel": "meeting cancellation",
}
LA_FIELDS = ("sen_team_email", "finance_email", "contract_email")

#: RFC 3463 subject.detail → plain words (the class, 4 or 5, says whether it is still retried)
_REASONS = {
    "1.1": "the mailbox does not exist",
    "1.10": "the mailbox does not exist",
    "1.2": "the address's domain does not exist",
    "1.3": "the address is not valid",
    "1.6": "the mailbox has moved and left no new address",
    "2.1": "the mailbox is closed or disabled",
    "2.2": "the mailbox is full",
    "2.3": "the message is too large for the mailbox",
    "3.4": "the message is too large",
    "4.1": "the recipient's mail server does not answer",
    "4.4": "the recipient's mail server cannot be found",
    "4.7": "delivery took too long and was given up",
    "7.1": "the recipient's mail server refused our messages",
}
_REASONS_BY_SUBJECT = {
    "1": "the address is not valid",
    "2": "the mailbox cannot take messages",
    "3": "the recipient's mail system cannot take messages",
    "4": "the recipient's mail server cannot be reached",
    "5": "the recipient's mail server refused the message",
    "6": "the message could not be converted",
    "7": "the recipient's mail server refused our messages",
}
_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")


def normalise_status(status: str) -> str:
    """A valid enhanced status ("5.1.1"), or the class alone ("5.0.0") for anything else."""
    status = (status or "").strip()
    if _STATUS.match(status):
        return status
    return "5.0.0" if status[:1] == "5" else "4.0.0"


def plain_reason(status: str) -> str:
    """The reason for `status` in plain words, for the team (never the server's own text)."""
    cls, subject, detail = normalise_status(status).split(".")
    words = _REASONS.get(f"{subject}.{detail}") or _REASONS_BY_SUBJECT.get(subject)
    if words is None:
        words = "the recipient's mail server refused the message" if cls == "5" else "delivery keeps being delayed"
    return words


def smtp_rejection(exc: BaseException | None) -> str | None:
    """The enhanced status ("5.1.1", "4.2.2") of a recipient refused at RCPT or a message refused
    at DATA, found anywhere in `exc`'s chain; None for anything else (a dropped connection, our
    sender refused, a login failure). Without an enhanced code the reply's class is used ("5.0.0")."""
    import smtplib

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        reply: tuple[int, bytes | str] | None = None
        if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
            reply = next(iter(exc.recipients.values()))
        elif isinstance(exc, smtplib.SMTPDataError) or type(exc) is smtplib.SMTPResponseException:
            reply = (exc.smtp_code, exc.smtp_error)
        if reply is not None:
            code, text = reply
            if isinstance(text, bytes):
                text = text.decode("utf-8", errors="replace")
            if not (400 <= int(code) < 600):
                return None
            m = re.match(r"\s*([245])\.(\d{1,3})\.(\d{1,3})\b", str(text))
            if m and m.group(1) == str(code)[0]:
                return ".".join(m.groups())
            return f"{str(code)[0]}.0.0"
        exc = exc.__cause__ or exc.__context__
    return None
