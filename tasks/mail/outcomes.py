"""The outcome of sending one message (`tasks.mail.mailer`): its class, the server's reply code
and enhanced status, and a reason in plain words (the server's text with addresses taken out)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from models.errors import InternalError

SENT: Final = "sent"
TRANSIENT: Final = "transient"
PERMANENT: Final = "permanent"
UNKNOWN: Final = "unknown"
UNREACHABLE: Final = "unreachable"
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


class DeliveryError(InternalError):
    """The message was not accepted; the text says why (no personal data). `outcome` has the detail."""

    def __init__(self, message: str, outcome: SendOutcome | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome or SendOutcome(TRANSIENT, message)


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


def reply_outcome(code: int, reply: bytes | str | None, what: str) -> SendOutcome:
    """4xx = transient, 5xx = permanent; anything else (a nonsense code) is transient."""
    status: OutcomeStatus = PERMANENT if 500 <= code < 600 else TRANSIENT
    enhanced = enhanced_status_of(reply)
    later = "it will not be retried" if status == PERMANENT else "it will be tried again later"
    words = server_words(reply)
    reason = f"{what} ({code}{' ' + enhanced if enhanced else ''}); {later}" + (f": {words}" if words else "")
    return SendOutcome(status, reason, code, enhanced)
