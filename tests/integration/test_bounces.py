"""Bounces become a phone call (issue 15), against the real databases and a real Maildir.

A certificate is issued and delivered as an .eml file (the embedded mailer); the bounce notice
quoting that very message is dropped into the bounce Maildir; `drs mail bounces` reads it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import bounce_samples as samples
from tests.monitor_cases import FAMILY_EMAIL, PERSONAL, make_case

SALFORD = "E08000006"
NOW = "2026-11-27T11:00:00+00:00"  # Friday


@pytest.fixture
def maildir(drs_env, monkeypatch) -> Path:
    from tasks.settings import get_settings

    path = drs_env.home / "mail" / "bounces"
    monkeypatch.setenv("DRS_BOUNCE_MAILDIR", str(path))
    get_settings.cache_clear()
    return path


def certificate_case(drs) -> str:
    # worked example: decision Thu 1 Oct 2026, certificate Fri 27 Nov 2026 -> appeal deadline Mon 4 Jan 2027
    ref = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", date(2026, 11, 24), {})),
    )
    r = drs("certificate", "issue", ref, "--on", "2026-11-27", "--today", "2026-11-27")
    assert r.exit_code == 0, r.stderr
    return ref


def sent_message(drs, drs_env, kind: str):
    """Deliver the outbox (as .eml files) and return (outbox row id, the message sent for `kind`)."""
    from models.db import OutboxEmail
    from tasks.db import unit_of_work

    assert drs("mail", "deliver", "--now", NOW).exit_code == 0
    with unit_of_work() as db:
        row = db.scalar(select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id.desc()))
        assert row.status == "sent"
        row_id, to, subject = row.id, row.to_addr, row.subject
    sent = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in (drs_env.outbox_dir / "sent").glob("*.eml")
    ]
    found = [m for m in sent if str(m["To"]) == to and str(m["Subject"]) == subject]
    assert len(found) == 1, [str(m["Subject"]) for m in sent]
    return row_id, found[0]


def drop(maildir: Path, name: str, raw: bytes) -> None:
    (maildir / "new").mkdir(parents=True, exist_ok=True)
    (maildir / "tmp").mkdir(parents=True, exist_ok=True)
    (maildir / "tmp" / name).write_bytes(raw)
    (maildir / "tmp" / name).replace(maildir / "new" / name)


def outbox(key_prefix: str = "") -> list:
    from models.db import OutboxEmail
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        return list(
            db.execute(
                select(
                    OutboxEmail.id,
                    OutboxEmail.key,
                    OutboxEmail.kind,
                    OutboxEmail.to_addr,
                    OutboxEmail.status,
                    OutboxEmail.subject,
                    OutboxEmail.body_text,
                    OutboxEmail.last_error,
                )
                .where(OutboxEmail.key.like(key_prefix + "%"))
                .order_by(OutboxEmail.id)
            ).all()
        )


def test_a_bounced_certificate_is_a_contact_problem_escalated_to_the_team_that_day(las, drs, drs_env, maildir):
    ref = certificate_case(drs)
    row_id, original = sent_message(drs, drs_env, "certificate")
    drop(maildir, "1796112000.M1P1.relay", samples.postfix_report(original))

    r = drs("mail", "bounces", "--now", NOW, "--json")
    assert r.exit_code == 0, r.stderr
    summary = r.json()
    assert (summary["read"], summary["hard"], summary["escalated"], summary["case_refs"]) == (1, 1, 1, [ref])
    assert "@" not in r.stdout and PERSONAL[0] not in r.stdout  # references only

    (row,) = [o for o in outbox() if o.id == row_id]
    assert row.status == "bounced" and "the mailbox does not exist" in row.last_error
    doc = drs("case", "show", ref, "--json", "--today", "2026-11-27").json()
    assert doc["contact_problems"] == [
        {
            "email": row.key,
            "recipient_role": "family",
            "reason": "the mailbox does not exist",
            "since": "2026-11-27T11:00:00+00:00",
            "statutory": True,
        }
    ]
    # the team is told at once: case reference, what, why and the appeal deadline; no name, no address
    (escalation,) = outbox("bounce-escalation:")
    assert escalation.to_addr == "team@service.example.org" and escalation.status == "pending"
    assert ref in escalation.subject and "Monday 4 January 2027" in escalation.body_text
    assert FAMILY_EMAIL not in escalation.body_text + escalation.subject
    assert not any(p in escalation.body_text for p in PERSONAL)
    # the notice is moved to the processed sub-maildir, never deleted
    assert list((maildir / "new").iterdir()) == []
    (kept,) = list((maildir / ".processed" / "cur").iterdir())
    assert kept.name.startswith("1796112000.M1P1.relay") and kept.name.endswith(":2,S")

    # the today screen lists the family to phone, references only
    from tasks.operations.today import build_today, render_today

    markdown = render_today(build_today(date(2026, 11, 27), datetime(2026, 11, 27, 11, 5, tzinfo=UTC)))
    assert "## Phone these families (1)" in markdown and f"- {ref} — mediation certificate not delivered" in markdown
    assert "@" not in markdown

    # the same notice read again (a copy in new/) changes nothing: no second escalation
    drop(maildir, "1796112001.M2P1.relay", samples.postfix_report(original))
    again = drs("mail", "bounces", "--now", NOW, "--json").json()
    assert (again["bounces"], again["escalated"]) == (1, 0)
    assert len(outbox("bounce-escalation:")) == 1


def test_an_out_of_office_reply_changes_nothing(las, drs, drs_env, maildir):
    ref = certificate_case(drs)
    row_id, original = sent_message(drs, drs_env, "certificate")
    drop(maildir, "1796112000.M1P1.ooo", samples.out_of_office(original))
    drop(maildir, "1796112000.M2P1.mdn", samples.read_receipt(original))
    summary = drs("mail", "bounces", "--now", NOW, "--json").json()
    assert (summary["read"], summary["not_bounces"], summary["bounces"]) == (2, 2, 0)
    assert [o.status for o in outbox() if o.id == row_id] == ["sent"]
    assert drs("case", "show", ref, "--json", "--today", "2026-11-27").json()["contact_problems"] == []
    assert outbox("bounce-escalation:") == []
    assert len(list((maildir / ".processed" / "cur").iterdir())) == 2


def test_a_notice_for_someone_elses_message_is_unmatched(las, drs, drs_env, maildir):
    certificate_case(drs)
    _, original = sent_message(drs, drs_env, "certificate")
    del original["Message-ID"]
    original["Message-ID"] = "<certificate.MC-2026-00001@elsewhere.example>"
    drop(maildir, "1.M1P1.x", samples.gmail_report(original))
    summary = drs("mail", "bounces", "--now", NOW, "--json").json()
    assert (summary["bounces"], summary["unmatched"], summary["hard"]) == (1, 1, 0)


@pytest.mark.parametrize(
    "build", [samples.gmail_report, samples.exchange_report, samples.exim_text, samples.exchange_text]
)
def test_each_format_is_matched_to_its_outbox_row_by_message_id(las, drs, drs_env, maildir, build):
    certificate_case(drs)
    row_id, original = sent_message(drs, drs_env, "certificate")
    drop(maildir, "1.M1P1.x", build(original))
    summary = drs("mail", "bounces", "--now", NOW, "--json").json()
    assert (summary["bounces"], summary["unmatched"]) == (1, 0)
    (row,) = [o for o in outbox() if o.id == row_id]
    assert row.status == "bounced" and "the mailbox does not exist" in row.last_error


def test_a_soft_bounce_becomes_a_contact_problem_only_after_three_working_days(las, drs, drs_env, maildir):
    ref = certificate_case(drs)
    row_id, original = sent_message(drs, drs_env, "certificate")
    drop(maildir, "1.M1P1.x", samples.postfix_report(original, "4.2.2", "delayed"))
    first = drs("mail", "bounces", "--now", NOW, "--json").json()  # Fri 27 Nov
    assert (first["soft"], first["hard"], first["escalated"]) == (1, 0, 0)
    show = lambda day: drs("case", "show", ref, "--json", "--today", day).json()["contact_problems"]  # noqa: E731
    assert show("2026-11-27") == []
    # Tue 1 Dec: two working days later (Mon 30, Tue 1): still retried, no contact problem
    assert drs("mail", "bounces", "--now", "2026-12-01T16:00:00+00:00", "--json").json()["promoted"] == 0
    assert [o.status for o in outbox() if o.id == row_id] == ["sent"]
    # Wed 2 Dec: the third working day, still failing -> a contact problem, escalated (a certificate)
    later = drs("mail", "bounces", "--now", "2026-12-02T09:15:00+00:00", "--json").json()
    assert (later["promoted"], later["escalated"], later["case_refs"]) == (1, 1, [ref])
    (problem,) = show("2026-12-02")
    assert problem["reason"] == "the mailbox is full" and problem["since"] == "2026-11-27T11:00:00+00:00"
    assert [o.status for o in outbox() if o.id == row_id] == ["bounced"]
    assert len(outbox("bounce-escalation:")) == 1


def test_a_relay_giving_up_on_a_soft_failure_is_retried_by_our_delivery(las, drs, drs_env, maildir):
    certificate_case(drs)
    row_id, original = sent_message(drs, drs_env, "certificate")
    drop(maildir, "1.M1P1.x", samples.exim_text(original, "452", "4.2.2"))
    assert drs("mail", "bounces", "--now", NOW, "--json").json()["soft"] == 1
    (row,) = [o for o in outbox() if o.id == row_id]
    assert row.status == "pending" and "retrying" in row.last_error
    assert drs("mail", "deliver", "--now", "2026-11-27T12:00:00+00:00").exit_code == 0
    assert [o.status for o in outbox() if o.id == row_id] == ["sent"]
    # delivered again after the soft bounce: never a contact problem
    assert drs("mail", "bounces", "--now", "2026-12-03T10:00:00+00:00", "--json").json()["promoted"] == 0


def bounce(row_id: int, status: str = "5.1.1", now: str = NOW) -> None:
    from tasks.bounces.handling import record_bounce
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        record_bounce(db, row_id, status=status, now=datetime.fromisoformat(now), source="dsn", action="failed")
        db.commit()


def test_a_corrected_address_resends_exactly_the_bounced_statutory_emails_once(las, drs, drs_env):
    from models.db import AuditEntry, Case
    from tasks.db import unit_of_work
    from tasks.mail.outbox import queue_email

    ref = certificate_case(drs)
    with unit_of_work() as db:
        case_id = db.scalar(select(Case.id).where(Case.ref == ref))
        queue_email(
            db,
            key=f"nudge:{ref}",
            kind="outcome-nudge",
            to=FAMILY_EMAIL,
            subject="How did it go?",
            text="Tell us how the meeting went.",
            now=datetime.fromisoformat(NOW),
            case_id=case_id,
        )
        queue_email(
            db,
            key=f"later:{ref}",
            kind="session-invite",
            to=FAMILY_EMAIL,
            subject="Invitation",
            text="Meeting invitation.",
            now=datetime.fromisoformat(NOW),
            case_id=case_id,
            not_before=datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
        )
        db.commit()
    assert drs("mail", "deliver", "--now", NOW).exit_code == 0
    rows = {o.kind: o for o in outbox()}
    bounce(rows["certificate"].id)
    bounce(rows["outcome-nudge"].id)
    assert len(drs("case", "show", ref, "--json", "--today", "2026-11-27").json()["contact_problems"]) == 2
    text = drs("case", "show", ref, "--today", "2026-11-27").stdout
    assert "contact problem: family — the mailbox does not exist since 2026-11-27 (statutory)" in text
    assert "@" not in text

    new = "parent.right@families.example"
    r = drs("case", "contact", ref, "--email", new, "--now", "2026-11-30T10:00:00+00:00", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["resent"] == [f"resend:{rows['certificate'].id}"] and r.json()["resolved"] == 2
    assert r.json()["readdressed"] == 1  # the invitation still waiting for 08:00 goes to the new address
    (resent,) = outbox("resend:")
    assert (resent.kind, resent.to_addr, resent.subject, resent.body_text, resent.status) == (
        "certificate",
        new,
        rows["certificate"].subject,
        rows["certificate"].body_text,
        "pending",
    )
    assert "@" not in resent.key
    with unit_of_work() as db:
        from models.db import OutboxEmail

        copy = db.scalar(select(OutboxEmail).where(OutboxEmail.key == resent.key))
        orig = db.get(OutboxEmail, rows["certificate"].id)
        assert [(a.filename, a.content) for a in copy.attachments] == [
            (a.filename, a.content) for a in orig.attachments
        ]
        assert db.scalar(select(Case.requester_email).where(Case.id == case_id)) == new
        assert db.scalar(select(OutboxEmail.to_addr).where(OutboxEmail.key == f"later:{ref}")) == new
        (entry,) = db.scalars(select(AuditEntry).where(AuditEntry.action == "contact:corrected")).all()
        assert "@" not in str(entry.detail)
    assert drs("case", "show", ref, "--json", "--today", "2026-11-30").json()["contact_problems"] == []

    # run twice: nothing more is sent
    again = drs("case", "contact", ref, "--email", new, "--now", "2026-11-30T10:05:00+00:00", "--json").json()
    assert (again["resent"], again["resolved"]) == ([], 0)
    assert len(outbox("resend:")) == 1


def test_reached_by_phone_closes_the_problem(las, drs, drs_env):
    from models.db import AuditEntry, ContactProblem
    from tasks.db import unit_of_work

    ref = certificate_case(drs)
    assert drs("mail", "deliver", "--now", NOW).exit_code == 0
    bounce([o for o in outbox() if o.kind == "certificate"][0].id)
    r = drs(
        "case",
        "contact",
        ref,
        "--reached",
        "--by",
        "phone",
        "--on",
        "2026-11-30",
        "--note",
        "spoke to the parent",
        "--today",
        "2026-11-30",
    )
    assert r.exit_code == 0, r.stderr
    assert drs("case", "show", ref, "--json", "--today", "2026-11-30").json()["contact_problems"] == []
    with unit_of_work() as db:
        (p,) = db.scalars(select(ContactProblem)).all()
        assert (p.resolution, p.resolution_note) == ("reached-phone", "spoke to the parent")
        (entry,) = db.scalars(select(AuditEntry).where(AuditEntry.action == "contact:reached")).all()
        assert entry.detail == {"role": "family", "by": "phone", "on": "2026-11-30", "problems": 1}
    assert (
        drs(
            "case", "contact", ref, "--reached", "--by", "phone", "--on", "2026-12-30", "--today", "2026-11-30"
        ).exit_code
        == 2
    )
    assert drs("case", "contact", ref, "--reached", "--today", "2026-11-30").exit_code == 2
    assert drs("case", "contact", ref, "--email", "not-an-address").exit_code == 2


def test_a_bounced_la_request_is_a_problem_on_the_register_until_it_is_fixed(las, drs, drs_env, tmp_path):
    from models.db import Case
    from tasks.db import unit_of_work
    from tasks.mail.outbox import queue_email

    ref = make_case(SALFORD, received_on=date(2026, 11, 20), letter_sent_on=date(2026, 10, 1))
    with unit_of_work() as db:
        case_id = db.scalar(select(Case.id).where(Case.ref == ref))
        queue_email(
            db,
            key=f"la-request:{ref}",
            kind="la-mediation-request",
            to="sen@salford.example.org",
            subject=f"Mediation request {ref}",
            text="Please arrange mediation.",
            now=datetime.fromisoformat(NOW),
            case_id=case_id,
        )
        db.commit()
    assert drs("mail", "deliver", "--now", NOW).exit_code == 0
    (row,) = outbox("la-request:")
    bounce(row.id, "5.1.1")
    (problem,) = drs("case", "show", ref, "--json", "--today", "2026-11-27").json()["contact_problems"]
    assert problem["recipient_role"] == "la" and problem["statutory"] is True
    listed = {r["code"]: r["contact_problems"] for r in drs("la", "list", "--json").json()}
    assert [p["field"] for p in listed[SALFORD]] == ["sen_team_email"] and listed["E08000003"] == []
    assert "sen_team_email bounced" in drs("la", "list").stdout

    # the team fixes the register; the next bounce-check closes it and sends the request there
    from tests.conftest import LA_CSV

    fixed = tmp_path / "las.csv"
    fixed.write_text(LA_CSV.replace("sen@salford.example.org", "send.team@salford.example.org"))
    assert drs("la", "import", str(fixed)).exit_code == 0
    assert {r["code"]: r["contact_problems"] for r in drs("la", "list", "--json").json()}[SALFORD] == []
    summary = drs("mail", "bounces", "--now", "2026-11-30T10:00:00+00:00", "--json").json()
    assert summary["la_settled"] == 1
    (resent,) = outbox("resend:")
    assert (resent.kind, resent.to_addr) == ("la-mediation-request", "send.team@salford.example.org")


def test_the_daily_digest_lists_the_families_to_phone(las, drs, drs_env):
    from tasks.deadlines.digest import queue_digest

    ref = certificate_case(drs)
    assert drs("mail", "deliver", "--now", NOW).exit_code == 0
    bounce([o for o in outbox() if o.kind == "certificate"][0].id, "5.2.2")
    assert queue_digest(date(2026, 11, 30), datetime(2026, 11, 30, 7, 0, tzinfo=UTC), [])
    (digest,) = outbox("digest:")
    assert "Phone these families (1)" in digest.body_text
    assert f"{ref} — mediation certificate not delivered: the mailbox is full" in digest.body_text
    assert FAMILY_EMAIL not in digest.body_text


def test_retention_empties_the_processed_folder_after_the_retention_period(las, drs, drs_env, maildir):
    import os

    from tasks.privacy.file_retention import remove_old_copies

    processed = maildir / ".processed" / "cur"
    processed.mkdir(parents=True)
    old, recent = processed / "1.M1P1.old:2,S", processed / "2.M1P1.new:2,S"
    old.write_bytes(b"Subject: old bounce\n\nx")
    recent.write_bytes(b"Subject: recent bounce\n\nx")
    stamp = datetime(2024, 1, 10, tzinfo=UTC).timestamp()
    os.utime(old, (stamp, stamp))
    os.utime(recent, (datetime(2026, 11, 1, tzinfo=UTC).timestamp(),) * 2)
    summary = remove_old_copies(date(2026, 11, 27))
    assert summary.removed.get("bounces/processed") == 1
    assert not old.exists() and recent.exists()


def test_a_bounced_claims_batch_is_sent_again_once_the_finance_address_is_fixed(las, drs, drs_env, tmp_path):
    from tasks.db import unit_of_work
    from tasks.mail.attachment import Attachment
    from tasks.mail.outbox import queue_email
    from tests.conftest import LA_CSV

    with unit_of_work() as db:
        queue_email(
            db,
            key="claim-batch:E08000001-2026-11",
            kind="claim-batch",
            to="finance@bolton.example.org",
            subject="Expense claims batch E08000001-2026-11",
            text="The batch is attached.",
            now=datetime.fromisoformat(NOW),
            attachments=[Attachment("batch.xlsx", "application/octet-stream", b"PK")],
        )
        db.commit()
    assert drs("mail", "deliver", "--now", NOW).exit_code == 0
    (row,) = outbox("claim-batch:")
    bounce(row.id, "5.2.1")
    listed = {r["code"]: r["contact_problems"] for r in drs("la", "list", "--json").json()}
    assert [(p["field"], p["reason"]) for p in listed["E08000001"]] == [
        ("finance_email", "the mailbox is closed or disabled")
    ]
    fixed = tmp_path / "las.csv"
    fixed.write_text(LA_CSV.replace("finance@bolton.example.org", "payments@bolton.example.org"))
    assert drs("la", "import", str(fixed)).exit_code == 0
    assert drs("mail", "bounces", "--now", "2026-11-30T10:00:00+00:00", "--json").json()["la_settled"] == 1
    assert drs("mail", "bounces", "--now", "2026-11-30T10:15:00+00:00", "--json").json()["la_settled"] == 0
    (resent,) = outbox("resend:")
    assert (resent.kind, resent.to_addr, resent.subject) == ("claim-batch", "payments@bolton.example.org", row.subject)


def test_the_admin_run_forms_do_the_same_as_the_commands(las, drs, drs_env):
    from flows.admin import ContactRole, ReachedBy, correct_contact, record_contact_reached
    from models.db import AuditEntry
    from tasks.db import unit_of_work

    ref = certificate_case(drs)
    assert drs("mail", "deliver", "--now", NOW).exit_code == 0
    cert = [o for o in outbox() if o.kind == "certificate"][0]
    bounce(cert.id)
    done = correct_contact.fn(
        case_ref=f" {ref} ", email="parent.right@families.example", your_name="Test Admin", role=ContactRole.family
    )
    assert (done["resolved"], done["resent"]) == (1, [f"resend:{cert.id}"])
    assert (
        record_contact_reached.fn(case_ref=ref, by=ReachedBy.letter, on=date(2026, 11, 30), your_name="Test Admin")[
            "resolved"
        ]
        == 0
    )
    with unit_of_work() as db:
        actors = {
            (e.action, e.actor) for e in db.scalars(select(AuditEntry).where(AuditEntry.action.like("contact:%")))
        }
    assert actors == {("contact:corrected", "dashboard"), ("contact:reached", "dashboard")}


def test_two_readers_of_the_same_maildir_record_a_bounce_once(las, drs, drs_env, maildir):
    from tasks.bounces import job
    from tasks.bounces.sources import MaildirSource

    certificate_case(drs)
    _, original = sent_message(drs, drs_env, "certificate")
    drop(maildir, "1.M1P1.x", samples.postfix_report(original))

    class Racing(MaildirSource):  # the other reader moves the notice while this one records it
        def done(self, name):
            MaildirSource(self.root).__enter__().done(name)
            super().done(name)

    summary = job.run(None, datetime.fromisoformat(NOW), sources=[Racing(maildir)])
    assert (summary.hard, summary.escalated) == (1, 1)
    assert len(list((maildir / ".processed" / "cur").iterdir())) == 1
