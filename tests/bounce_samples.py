"""Bounce notices in each format, built with the standard library `email` package (issue 15).

Written from the formats' definitions: RFC 3464 (multipart/report, message/delivery-status with
per-message and per-recipient fields), RFC 3462/6522 (text/rfc822-headers), RFC 3463 (enhanced
status codes), and the documented shapes of the common notices: Postfix's "Undelivered Mail
Returned to Sender" report, Exim's plain-text "Mail delivery failed: returning message to sender"
and its delay warning, Gmail's "Delivery Status Notification (Failure)", Microsoft 365 / Exchange
"Undeliverable:" reports (5.1.10 RESOLVER.ADR.RecipientNotFound) and their older plain-text form.
Plus what is NOT a bounce: an out-of-office reply (which carries `Auto-Submitted` just as Postfix
and Exim bounces do), a read receipt and a "delivered" notice.
"""

from __future__ import annotations

from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid

SERVICE = "mediation@service.example.org"


def _headers(msg, *, subject: str, sender: str, auto: bool = True) -> None:
    msg["From"] = sender
    msg["To"] = SERVICE
    msg["Subject"] = subject
    msg["Date"] = formatdate(1796112000)  # a fixed date: nothing reads the real clock
    msg["Message-ID"] = make_msgid(domain="mx.example.net")
    if auto:
        msg["Auto-Submitted"] = "auto-replied"


def _delivery_status(recipient: str, status: str, action: str, diagnostic: str, mta: str) -> MIMEBase:
    part = MIMEBase("message", "delivery-status")
    per_message = Message()
    per_message["Reporting-MTA"] = f"dns; {mta}"
    per_message["Arrival-Date"] = formatdate(1796112000)
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Original-Recipient"] = f"rfc822;{recipient}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Remote-MTA"] = "dns; mx.families.example"
    per_recipient["Diagnostic-Code"] = f"smtp; {diagnostic}"
    part.set_payload([per_message, per_recipient])
    return part


def _report(
    original: EmailMessage,
    human: str,
    recipient: str,
    status: str,
    action: str,
    diagnostic: str,
    *,
    subject: str,
    sender: str,
    mta: str,
    headers_only: bool = False,
) -> MIMEMultipart:
    msg = MIMEMultipart("report", report_type="delivery-status")
    _headers(msg, subject=subject, sender=sender)
    msg.attach(MIMEText(human, "plain"))
    msg.attach(_delivery_status(recipient, status, action, diagnostic, mta))
    if headers_only:
        head = "".join(f"{k}: {v}\n" for k, v in original.items())
        msg.attach(MIMEText(head, "rfc822-headers"))
    else:
        msg.attach(MIMEMessage(original))
    return msg


def postfix_report(original: EmailMessage, status: str = "5.1.1", action: str = "failed") -> bytes:
    """Postfix's bounce (RFC 3464 report, the original attached as message/rfc822)."""
    rcpt = str(original["To"])
    reply = {
        "5": f"550 {status} <{rcpt}>: Recipient address rejected: User unknown in local recipient table",
        "4": f"452 {status} <{rcpt}>: Mailbox full, try again later",
    }[status[0]]
    human = (
        "This is the mail system at host relay.service.example.org.\n\n"
        "I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n"
        f"<{rcpt}>: host mx.families.example[192.0.2.25] said: {reply} (in reply to RCPT TO command)\n"
    )
    if action == "delayed":
        human = (
            "This is the mail system at host relay.service.example.org.\n\n"
            "####################################################################\n"
            "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
            "####################################################################\n\n"
            f"Your message could not be delivered for more than 4 hour(s).\nIt will be retried until it is 5 day(s) old.\n\n"
            f"<{rcpt}>: host mx.families.example[192.0.2.25] said: {reply}\n"
        )
    subject = "Delayed Mail (still being retried)" if action == "delayed" else "Undelivered Mail Returned to Sender"
    return _report(
        original,
        human,
        rcpt,
        status,
        action,
        reply,
        subject=subject,
        sender="MAILER-DAEMON@relay.service.example.org (Mail Delivery System)",
        mta="relay.service.example.org",
    ).as_bytes()


def gmail_report(original: EmailMessage, status: str = "5.1.1") -> bytes:
    """Gmail's "Delivery Status Notification (Failure)": report with text/rfc822-headers."""
    rcpt = str(original["To"])
    diag = (
        f"550-{status} The email account that you tried to reach does not exist. Please try\n 550-{status} "
        f"double-checking the recipient's email address for typos or\n 550 {status} unnecessary spaces."
    )
    human = (
        "** Address not found **\n\n"
        f"Your message wasn't delivered to {rcpt} because the address couldn't be found, "
        "or is unable to receive mail.\n\nThe response from the remote server was:\n"
        f"{diag}\n"
    )
    return _report(
        original,
        human,
        rcpt,
        status,
        "failed",
        " ".join(diag.split()),
        subject="Delivery Status Notification (Failure)",
        sender="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        mta="mx.google.com",
        headers_only=True,
    ).as_bytes()


def exchange_report(original: EmailMessage, status: str = "5.1.10") -> bytes:
    """Microsoft 365 / Exchange Online "Undeliverable:" report (NDR)."""
    rcpt = str(original["To"])
    diag = f"550 {status} RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
    human = (
        "Your message to " + rcpt + " couldn't be delivered.\n\n"
        f"{rcpt.split('@')[0]} wasn't found at {rcpt.split('@')[1]}.\n\n"
        "Action Required\nUnknown To address\n\nHow to Fix It\n"
        "The address may be misspelled or may not exist.\n\n"
        "Diagnostic information for administrators:\n\nGenerating server: AM0PR01MB1234.eurprd01.prod.outlook.com\n"
        f"{rcpt}\nRemote Server returned '{diag}'\n"
    )
    return _report(
        original,
        human,
        rcpt,
        status,
        "failed",
        diag,
        subject=f"Undeliverable: {original['Subject']}",
        sender="Microsoft Outlook <postmaster@outlook.com>",
        mta="AM0PR01MB1234.eurprd01.prod.outlook.com",
    ).as_bytes()


def _quoted(original: EmailMessage) -> str:
    return (
        "".join(f"{k}: {v}\n" for k, v in original.items())
        + "\n"
        + (original.get_body(("plain",)).get_content()[:200] if original.get_body(("plain",)) else "")
    )


def exim_text(original: EmailMessage, code: str = "550", status: str = "5.1.1") -> bytes:
    """Exim's plain-text bounce with a copy of the message below."""
    rcpt = str(original["To"])
    msg = EmailMessage()
    _headers(
        msg,
        subject="Mail delivery failed: returning message to sender",
        sender="Mail Delivery System <Mailer-Daemon@relay.service.example.org>",
    )
    msg.set_content(
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        f"  {rcpt}\n    host mx.families.example [192.0.2.25]\n"
        f"    SMTP error from remote mail server after RCPT TO:<{rcpt}>:\n    {code} {status} Mailbox is full / over quota\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        f"Return-path: <{SERVICE}>\n" + _quoted(original)
    )
    return msg.as_bytes()


def exim_delay(original: EmailMessage) -> bytes:
    """Exim's delay warning (no SMTP reply from the far end yet): a soft bounce."""
    msg = EmailMessage()
    _headers(
        msg,
        subject="Warning: message 1vXyZa-000123-AB delayed 24 hours",
        sender="Mail Delivery System <Mailer-Daemon@relay.service.example.org>",
    )
    msg.set_content(
        "This message was created automatically by mail delivery software.\n"
        "A message that you sent has not yet been delivered to one or more of its\n"
        "recipients after more than 24 hours on the queue on relay.service.example.org.\n\n"
        "The message identifier is:     1vXyZa-000123-AB\n"
        f"The subject of the message is: {original['Subject']}\n\n"
        "No action is required on your part. Delivery attempts will continue for\n"
        "some time, and this warning may be repeated at intervals if the message\n"
        "remains undelivered. Eventually the mail delivery software will give up,\n"
        "and when that happens, the message will be returned to you.\n\n"
        "------ This is a copy of the message's headers. ------\n\n" + _quoted(original)
    )
    return msg.as_bytes()


def exchange_text(original: EmailMessage) -> bytes:
    """An older Exchange NDR as plain text, with the original headers quoted."""
    rcpt = str(original["To"])
    msg = EmailMessage()
    _headers(msg, subject=f"Undeliverable: {original['Subject']}", sender="postmaster@la.example.gov.uk", auto=False)
    msg.set_content(
        "Delivery has failed to these recipients or groups:\n\n"
        f"{rcpt}\nThe e-mail address you entered couldn't be found.\n\n"
        "Diagnostic information for administrators:\n\nGenerating server: EXCH01.la.example.gov.uk\n\n"
        f"{rcpt}\n#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n\n"
        "Original message headers:\n\n" + _quoted(original)
    )
    return msg.as_bytes()


def out_of_office(original: EmailMessage) -> bytes:
    """An out-of-office auto-reply: Auto-Submitted and In-Reply-To our message, but no bounce."""
    msg = EmailMessage()
    _headers(msg, subject=f"Automatic reply: {original['Subject']}", sender=str(original["To"]))
    msg["In-Reply-To"] = original["Message-ID"]
    msg["References"] = original["Message-ID"]
    msg["X-Autoreply"] = "yes"
    msg.set_content(
        "Thank you for your email. I am out of the office until Monday 7 December with limited "
        "access to email, and will reply when I am back. For anything urgent please ring the office.\n\n"
        "> " + "\n> ".join(_quoted(original).splitlines()[:8])
    )
    msg.add_alternative("<p>Thank you for your email. I am out of the office until Monday.</p>", subtype="html")
    return msg.as_bytes()


def read_receipt(original: EmailMessage) -> bytes:
    """A read receipt (RFC 8098 disposition notification): a report, but not a bounce."""
    msg = MIMEMultipart("report", report_type="disposition-notification")
    _headers(msg, subject=f"Read: {original['Subject']}", sender=str(original["To"]))
    msg.attach(MIMEText("Your message was read.", "plain"))
    mdn = MIMEText(
        f"Final-Recipient: rfc822; {original['To']}\nOriginal-Message-ID: {original['Message-ID']}\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n",
        "plain",
    )
    mdn.replace_header("Content-Type", "message/disposition-notification")
    msg.attach(mdn)
    return msg.as_bytes()


def delivered_notice(original: EmailMessage) -> bytes:
    """A "delivered" DSN (Action: delivered, 2.0.0): not a bounce."""
    return _report(
        original,
        "Your message was delivered.",
        str(original["To"]),
        "2.0.0",
        "delivered",
        "250 2.0.0 OK",
        subject="Successful Mail Delivery Report",
        sender="MAILER-DAEMON@relay.service.example.org",
        mta="relay.service.example.org",
    ).as_bytes()
