"""The bounce mailbox over IMAPS (issue 15): a real Dovecot on loopback with a passwd-file user.

Notices are appended to INBOX with imaplib; `drs mail bounces` reads them over TLS (the test's
certificate trusted through SSL_CERT_FILE), records the bounce, ignores the out-of-office reply,
and moves both to the `processed` folder — nothing is deleted unread.
"""

from __future__ import annotations

import pytest

from tests import bounce_samples as samples
from tests.dovecot import ensure_dovecot, start_dovecot
from tests.integration.test_bounces import NOW, certificate_case, outbox, sent_message


@pytest.fixture(scope="module")
def dovecot():
    import shutil

    binary = ensure_dovecot()
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test server's certificate")
    if binary is None:
        pytest.skip(
            "dovecot is not installed and cannot be installed here (needs root and apt-get: "
            "apt-get install -y dovecot-imapd; .ci/run does it)"
        )
    server = start_dovecot(binary)
    yield server
    server.stop()


@pytest.fixture
def imap_box(drs_env, dovecot, monkeypatch):
    from tasks.settings import get_settings

    monkeypatch.setenv("DRS_BOUNCE_IMAP_HOST", dovecot.host)
    monkeypatch.setenv("DRS_BOUNCE_IMAP_PORT", str(dovecot.port))
    monkeypatch.setenv("DRS_BOUNCE_IMAP_USER", dovecot.user)
    monkeypatch.setenv("DRS_BOUNCE_IMAP_PASSWORD", dovecot.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cafile))  # IMAPS (the default), certificate verified
    get_settings.cache_clear()
    conn = dovecot.client()
    for folder in ("INBOX", "processed"):  # empty between tests (and databases)
        typ, data = conn.select(folder)
        if typ == "OK" and int(data[0] or 0):
            conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
            conn.expunge()
    yield conn
    conn.logout()


def count(conn, folder: str) -> int:
    typ, data = conn.select(folder)
    return int(data[0]) if typ == "OK" else -1


def test_bounces_are_read_over_imaps_and_moved_to_processed(las, drs, drs_env, imap_box):
    ref = certificate_case(drs)
    row_id, original = sent_message(drs, drs_env, "certificate")
    imap_box.append("INBOX", None, None, samples.exchange_report(original))
    imap_box.append("INBOX", None, None, samples.out_of_office(original))
    assert count(imap_box, "INBOX") == 2

    r = drs("mail", "bounces", "--now", NOW, "--json")
    assert r.exit_code == 0, r.stderr
    summary = r.json()
    assert summary["sources"] == ["imap"]
    assert (summary["read"], summary["hard"], summary["not_bounces"], summary["escalated"]) == (2, 1, 1, 1)
    assert [o.status for o in outbox() if o.id == row_id] == ["bounced"]
    (p,) = drs("case", "show", ref, "--json", "--today", "2026-11-27").json()["contact_problems"]
    assert p["reason"] == "the mailbox does not exist"

    assert (count(imap_box, "INBOX"), count(imap_box, "processed")) == (0, 2)
    typ, data = imap_box.uid("SEARCH", None, "ALL")
    raw = b"".join(
        part[1] for part in imap_box.uid("FETCH", data[0].split()[0], "(BODY.PEEK[])")[1] if isinstance(part, tuple)
    )
    assert b"Undeliverable" in raw or b"Automatic reply" in raw  # kept whole in processed

    # a second run finds nothing new
    again = drs("mail", "bounces", "--now", NOW, "--json").json()
    assert (again["read"], again["escalated"]) == (0, 0)


def test_a_wrong_password_exits_1_naming_the_server_not_the_secret(las, drs, drs_env, imap_box, monkeypatch):
    monkeypatch.setenv("DRS_BOUNCE_IMAP_PASSWORD", "wrong-secret")
    r = drs("mail", "bounces", "--now", NOW)
    assert r.exit_code == 1
    assert "bounce mailbox" in r.stderr and "wrong-secret" not in r.stderr


def test_an_untrusted_certificate_is_refused(las, drs, drs_env, imap_box, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE")  # the system's CAs do not trust the test server's certificate
    r = drs("mail", "bounces", "--now", NOW)
    assert r.exit_code == 1 and "SSL" in r.stderr


def test_without_move_a_notice_is_copied_to_processed_before_it_leaves_the_inbox(las, drs, drs_env, imap_box):
    from tasks.bounces import job
    from tasks.bounces.sources import ImapSource
    from tasks.settings import get_settings

    class NoMove(ImapSource):  # a server without the MOVE extension
        def __enter__(self):
            super().__enter__()
            self.can_move = False
            return self

    certificate_case(drs)
    row_id, original = sent_message(drs, drs_env, "certificate")
    imap_box.append("INBOX", None, None, samples.gmail_report(original))
    from datetime import datetime

    summary = job.run(None, datetime.fromisoformat(NOW), sources=[NoMove(get_settings())])
    assert (summary.read, summary.hard) == (1, 1)
    assert (count(imap_box, "INBOX"), count(imap_box, "processed")) == (0, 1)


def test_retention_empties_the_imap_processed_folder_of_old_notices(las, drs_env, imap_box):
    import time
    from datetime import date

    from tasks.privacy.file_retention import remove_old_copies

    imap_box.create("processed")
    old = time.mktime((2024, 1, 10, 12, 0, 0, 0, 0, -1))
    recent = time.mktime((2026, 11, 20, 12, 0, 0, 0, 0, -1))
    imap_box.append("processed", None, old, b"Subject: old bounce\r\n\r\nx\r\n")
    imap_box.append("processed", None, recent, b"Subject: recent bounce\r\n\r\nx\r\n")
    summary = remove_old_copies(date(2026, 11, 27))
    assert summary.removed.get("bounces/processed") == 1 and summary.errors == []
    assert count(imap_box, "processed") == 1


def test_starttls_works_too(las, drs, drs_env, dovecot, imap_box, monkeypatch):
    certificate_case(drs)
    row_id, original = sent_message(drs, drs_env, "certificate")
    imap_box.append("INBOX", None, None, samples.postfix_report(original))
    monkeypatch.setenv("DRS_BOUNCE_IMAP_PORT", str(dovecot.starttls_port))
    monkeypatch.setenv("DRS_BOUNCE_IMAP_SECURITY", "starttls")
    summary = drs("mail", "bounces", "--now", NOW, "--json").json()
    assert (summary["read"], summary["hard"]) == (1, 1)
    assert [o.status for o in outbox() if o.id == row_id] == ["bounced"]
    last_login = [line for line in (dovecot.folder / "dovecot.log").read_text().splitlines() if "Login: user=" in line][
        -1
    ]
    assert ", TLS," in last_login  # the login went over the upgraded connection
