"""Reading bounce notices in each format (issue 15): status, action and the original Message-ID;
out-of-office replies, read receipts and "delivered" notices are not bounces."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from tasks.bounces.parse import parse_bounce
from tasks.bounces.reasons import normalise_status, plain_reason, smtp_rejection
from tasks.mail.mailer import OutgoingEmail, build_message
from tests import bounce_samples as samples

ORIGINAL = build_message(
    OutgoingEmail(
        to="parent.one@families.example",
        subject="Your mediation certificate",
        text="Your certificate is attached.",
        message_key="certificate:MC-2026-00001",
    ),
    samples.SERVICE,
)
MID = str(ORIGINAL["Message-ID"])


def parse(raw: bytes):
    return parse_bounce(message_from_bytes(raw, policy=policy.compat32))


@pytest.mark.parametrize(
    "build, status, action, form",
    [
        (samples.postfix_report, "5.1.1", "failed", "postfix"),
        (lambda o: samples.postfix_report(o, "4.2.2", "delayed"), "4.2.2", "delayed", "postfix"),
        (samples.gmail_report, "5.1.1", "failed", "gmail"),
        (samples.exchange_report, "5.1.10", "failed", "exchange"),
        (samples.exim_text, "5.1.1", "failed", "exim"),
        (lambda o: samples.exim_text(o, "452", "4.2.2"), "4.2.2", "failed", "exim"),
        (samples.exim_delay, "4.0.0", "delayed", "exim"),
        (samples.exchange_text, "5.1.1", "failed", "exchange"),
    ],
)
def test_each_format_gives_status_action_and_the_original_message_id(build, status, action, form):
    report = parse(build(ORIGINAL))
    assert report is not None
    assert (report.status, report.action, report.form) == (status, action, form)
    assert report.message_ids[0] == MID
    assert report.hard == status.startswith("5")


@pytest.mark.parametrize("build", [samples.out_of_office, samples.read_receipt, samples.delivered_notice])
def test_auto_replies_receipts_and_delivered_notices_are_not_bounces(build):
    raw = build(ORIGINAL)
    assert b"Auto-Submitted: auto-replied" in raw  # the header is no guide: bounces carry it too
    assert parse(raw) is None


def test_bounces_carry_auto_submitted_too():
    assert b"Auto-Submitted: auto-replied" in samples.exim_text(ORIGINAL)
    assert parse(samples.exim_text(ORIGINAL)) is not None


def test_plain_words_for_the_team():
    assert plain_reason("5.1.1") == "the mailbox does not exist"
    assert plain_reason("5.1.10") == "the mailbox does not exist"
    assert plain_reason("4.2.2") == "the mailbox is full"
    assert plain_reason("5.2.1") == "the mailbox is closed or disabled"
    assert plain_reason("5.9.99") == "the recipient's mail server refused the message"
    assert normalise_status("550") == "5.0.0" and normalise_status("bogus") == "4.0.0"


def test_smtp_rejection_reads_the_refused_recipient_through_the_mailers_wrapper():
    import smtplib

    from tasks.mail.mailer import DeliveryError

    def wrapped(exc):
        try:
            try:
                raise exc
            except smtplib.SMTPException as inner:
                raise DeliveryError(f"SMTP refused the message: {inner}") from None
        except DeliveryError as outer:
            return outer

    refused = smtplib.SMTPRecipientsRefused({"x@families.example": (550, b"5.1.1 User unknown")})
    assert smtp_rejection(wrapped(refused)) == "5.1.1"
    assert smtp_rejection(wrapped(smtplib.SMTPRecipientsRefused({"x@y.example": (452, b"Too many")}))) == "4.0.0"
    assert smtp_rejection(wrapped(smtplib.SMTPDataError(554, b"5.7.1 Rejected"))) == "5.7.1"
    assert smtp_rejection(wrapped(smtplib.SMTPSenderRefused(553, b"5.7.1 no", "me@x"))) is None
    assert smtp_rejection(ConnectionRefusedError()) is None


def test_any_text_reply_without_a_failed_delivery_in_it_is_not_a_bounce():
    from email.message import EmailMessage

    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=150, deadline=None)
    @given(st.text(max_size=400), st.sampled_from(["Automatic reply", "Out of Office", "Re: your email", ""]))
    def check(body, subject):
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["In-Reply-To"] = MID
        msg["Auto-Submitted"] = "auto-replied"
        msg.set_content(body + "\n\nI am away until Monday.\n" + f"Message-ID: {MID}\n")
        lowered = body.lower()
        report = parse(msg.as_bytes())
        if not any(
            w in lowered
            for w in (
                "deliver",
                "undeliver",
                "error",
                "unknown",
                "rejected",
                "failed",
                "not found",
                "unavailable",
                "returning",
                "warning",
                "delay",
                "trying",
                "full",
                "non-delivery",
                "notification",
                "incomplete",
            )
        ):
            assert report is None

    check()


def test_garbage_never_raises():
    for raw in (
        b"",
        b"\x00\xff" * 50,
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n",
        b"Content-Type: message/delivery-status\n\nAction: failed\nStatus: 9.9.9\n",
    ):
        parse(raw)
