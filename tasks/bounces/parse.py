"""Reading a delivery-status notification: is this message a bounce, of which email, and why?

`parse_bounce(message)` returns a `BounceReport` or None (not a bounce: an out-of-office or other
auto-reply, a read receipt, a "delivered" notice, anything else). It understands:

- RFC 3464 `multipart/report; report-type=delivery-status` (what Postfix, Gmail's "Delivery
  Status Notification" and Exchange / Microsoft 365 "Undeliverable:" reports are): `Action`,
  `Status` (RFC 3463 enhanced code), `Diagnostic-Code` of the recipient block; the original
  message attached as `message/rfc822` or `text/rfc822-headers`;
- plain-text bounces (Exim's "Mail delivery failed: returning message to sender" and delay
  warnings, Postfix without the report part, Exchange and Gmail text forms): the SMTP reply in
  the text ("550 5.1.1 ...", "said: 552 ...") and the original headers quoted below it.

Bounces are told from auto-replies by their content — a delivery-status report, or the words
and SMTP reply of a failed delivery — never by `Auto-Submitted`, which Postfix and Exim bounces
carry as well as out-of-office replies do.

The candidates in `message_ids` are the original message's Message-ID(s), best first; the
diagnostic text may hold the recipient's address, so callers must not store or log it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

#: RFC 3463 enhanced status code (class.subject.detail; Microsoft uses 3-digit details, e.g. 5.1.10)
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
#: an SMTP reply in text: "550 5.1.1 ...", "550-5.1.1 ...", "said: 552 ...", "550 Requested action ..."
_REPLY = re.compile(r"(?<![\d.])([45]\d\d)[ -]+(?:#?([245]\.\d{1,3}\.\d{1,3})(?![\d.]))?")
_MESSAGE_ID = re.compile(r"^\s*Message-I[Dd]\s*:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)

#: phrases of a failed or delayed delivery (lower case), from the formats' documented texts
_FAILURE_WORDS = (
    "could not be delivered",
    "couldn't be delivered",
    "undeliverable",
    "delivery has failed",
    "delivery failed",
    "delivery to the following recipient failed",
    "permanent error",
    "address not found",
    "recipient address rejected",
    "user unknown",
    "mailbox unavailable",
    "mailbox is full",
    "returning message to sender",
    "message not delivered",
    "was not delivered",
    "the following address(es) failed",
    "delivery status notification",
    "delivery incomplete",
    "failed permanently",
    "non-delivery",
    "your message wasn't delivered",
)
_DELAY_WORDS = (
    "has not yet been delivered",
    "delivery has been delayed",
    "message delayed",
    "delivery delayed",
    "delivery is delayed",
    "this is a warning only",
    "will continue to try",
    "delivery attempts will continue",
    "still trying",
)


@dataclass(frozen=True)
class BounceReport:
    """What a bounce says: `status` "5.1.1" (hard when it starts with 5), `action` failed|delayed,
    the original Message-IDs to match (best first), the final recipient and diagnostic text
    (personal data: never stored or logged), and which `form` it was read from."""

    status: str
    action: str
    message_ids: tuple[str, ...]
    recipient: str | None = None
    diagnostic: str | None = None
    form: str = "rfc3464"

    @property
    def hard(self) -> bool:
        return self.status.startswith("5")


def _text_parts(msg: Message) -> list[str]:
    out = []
    for part in msg.walk():
        if part.get_content_type() in ("text/plain", "text/html") and not part.is_multipart():
            try:
                payload = part.get_payload(decode=True)
                payload = payload if isinstance(payload, bytes) else b""
                out.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
            except (LookupError, AssertionError):
                continue
    return out


def _clean_id(value: str | None) -> str | None:
    if not value:
        return None
    m = re.search(r"<[^<>\s]+>", str(value))
    return m.group(0) if m else None


def _dedupe(ids) -> tuple[str, ...]:
    seen: list[str] = []
    for i in ids:
        if i and i not in seen:
            seen.append(i)
    return tuple(seen)


def _attached_ids(msg: Message) -> list[str]:
    """Message-IDs of attached originals: message/rfc822 parts and text/rfc822-headers parts."""
    ids = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                ids.append(_clean_id(inner.get("Message-ID")))
        elif ctype == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            raw = raw if isinstance(raw, bytes) else b""
            headers = HeaderParser().parsestr(raw.decode("utf-8", errors="replace"))
            ids.append(_clean_id(headers.get("Message-ID")))
    return [i for i in ids if i]


def _recipient_blocks(msg: Message) -> list[Message]:
    for part in msg.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks = [b for b in payload if isinstance(b, Message)]
            else:  # some writers leave the fields as one text body
                text = payload if isinstance(payload, str) else ""
                blocks = [HeaderParser().parsestr(chunk) for chunk in re.split(r"\r?\n\r?\n", text) if chunk.strip()]
            return [b for b in blocks if b.get("Action") or b.get("Status")]
    return []


def _status_from_text(text: str) -> tuple[str | None, str | None]:
    """(enhanced status, the line it was found on) from an SMTP reply quoted in `text`."""
    for line in text.splitlines():
        m = _REPLY.search(line)
        if m and (
            m.group(2)
            or re.search(
                r"\b(said|error|returned|response|reply|rejected|refused|host)\b|^\s*[45]\d\d\b", line, re.IGNORECASE
            )
        ):
            code, enhanced = m.group(1), m.group(2)
            if enhanced and enhanced[0] == code[0]:
                return enhanced, line.strip()
            return f"{code[0]}.0.0", line.strip()
    m = _ENHANCED.search(text)
    if m and m.group(1) in "45":
        return ".".join(m.groups()), None
    return None, None


def parse_bounce(msg: Message) -> BounceReport | None:
    """The bounce `msg` reports, or None when it is not a bounce (see the module docstring)."""
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type") or "").lower() if ctype == "multipart/report" else ""
    if ctype == "multipart/report" and report_type not in ("delivery-status", "global-delivery-status", ""):
        return None  # a read receipt (disposition-notification) or another kind of report
    own = {_clean_id(msg.get("Message-ID"))}
    quoted_text = "\n".join(_text_parts(msg))
    quoted_ids = [i for i in _MESSAGE_ID.findall(quoted_text) if i not in own]
    reply_ids = [_clean_id(v) for v in (msg.get("In-Reply-To"), *(str(msg.get("References") or "").split()))]

    blocks = _recipient_blocks(msg)
    if blocks:
        failing = [b for b in blocks if (b.get("Action") or "").strip().lower() in ("failed", "delayed")]
        if not failing:
            return None  # delivered / relayed / expanded: a success notice
        block = next((b for b in failing if (b.get("Action") or "").strip().lower() == "failed"), failing[0])
        action = (block.get("Action") or "").strip().lower()
        m = _ENHANCED.search(block.get("Status") or "")
        diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split()) or None
        status = (
            ".".join(m.groups())
            if m
            else (_status_from_text(diagnostic or "")[0] or ("5.0.0" if action == "failed" else "4.0.0"))
        )
        recipient = (
            str(block.get("Final-Recipient") or block.get("Original-Recipient") or "").split(";")[-1].strip() or None
        )
        ids = _dedupe([*_attached_ids(msg), *quoted_ids, *reply_ids])
        return BounceReport(status, action, ids, recipient, diagnostic, _form(msg, "rfc3464"))

    lower = quoted_text.lower()
    subject = str(msg.get("Subject") or "").lower()
    delayed = any(w in lower or w in subject for w in _DELAY_WORDS)
    failed = any(w in lower or w in subject for w in _FAILURE_WORDS)
    if not (failed or delayed):
        return None  # no word of a failed delivery: an auto-reply, out-of-office, or anything else
    found, line = _status_from_text(quoted_text)
    if found is None:
        if "permanent error" in lower or "failed permanently" in lower:
            found = "5.0.0"
        elif delayed:
            found = "4.0.0"
        else:
            return None  # failure words but no SMTP reply: not enough to call it a bounce
    if delayed and not found.startswith("5"):
        action = "delayed"
    else:
        action = "failed"
    ids = _dedupe([*_attached_ids(msg), *quoted_ids, *reply_ids])
    if not ids:
        return None
    return BounceReport(found, action, ids, None, line, _form(msg, "text"))


def _form(msg: Message, default: str) -> str:
    """A label for the notices' source, for counts only (never personal)."""
    sender = str(msg.get("From") or "").lower()
    subject = str(msg.get("Subject") or "").lower()
    if subject.startswith("undeliverable") or "microsoft" in sender or "postmaster@outlook" in sender:
        return "exchange"
    if "delivery status notification" in subject or "googlemail" in sender or "mailer-daemon@google" in sender:
        return "gmail"
    if "mail delivery failed" in subject or subject.startswith("warning: message"):
        return "exim"
    if "undelivered mail returned to sender" in subject or "delayed mail" in subject:
        return "postfix"
    return default
