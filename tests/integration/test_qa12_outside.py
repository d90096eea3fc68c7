"""Issue 12 checked again from outside (qa-12): cases of each class the first round did not try,
through the CLI, on SQLite and PostgreSQL. Each test is one class, several cases of it."""

from __future__ import annotations

import json
import os
from datetime import UTC, date

import pytest
from sqlalchemy import func, select

from tests.intake_samples import referral, settle, write_json
from tests.monitor_cases import make_case

SALFORD = "E08000006"


@pytest.fixture
def inbox(drs_env, las, monkeypatch):
    monkeypatch.setenv("DRS_INBOX_STABLE_SECONDS", "0")
    path = drs_env.home / "inbox" / "referrals"
    path.mkdir(parents=True)
    return path


def _written(path, text: str):
    path.write_text(text, encoding="utf-8")
    return settle(path)


def test_json_that_python_reads_but_is_not_json_or_is_ambiguous_is_rejected_whole(drs, inbox):
    # NaN / Infinity became the form ids 'nan' / 'inf'; a repeated key silently took the last value
    good = json.dumps(referral("TT-GOOD"))
    _written(inbox / "nan.json", good.replace('"TT-GOOD"', "NaN"))
    _written(inbox / "inf.json", good.replace('"TT-GOOD"', "-Infinity"))
    _written(inbox / "repeat.json", '{"form_id": "TT-A", ' + good[1:])
    _written(inbox / "nested-repeat.json", good.replace('"child": {', '"child": {"name": "X", '))
    write_json(inbox / "good.json", referral("TT-GOOD"))
    settle(inbox / "good.json")
    r = drs("intake", "--today", "2026-11-23", "--json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["imported"] == 1 and doc["rejected"] == 4
    errors = {x["source"]: x["errors"] for x in doc["results"] if x["status"] == "rejected"}
    assert errors["nan.json"] == ["the JSON contains NaN, which is not a JSON value (use a number or text)"]
    assert errors["inf.json"] == ["the JSON contains -Infinity, which is not a JSON value (use a number or text)"]
    assert errors["repeat.json"] == ["a JSON object has the key 'form_id' twice; which value is meant is unclear"]
    assert errors["nested-repeat.json"] == ["a JSON object has the key 'name' twice; which value is meant is unclear"]
    from models.db import Referral
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        assert sorted(db.scalars(select(Referral.form_id))) == ["TT-GOOD"]


def test_a_fresh_hard_link_waits_and_a_settled_one_is_refused_unread(drs, inbox, tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(referral("TT-OUT")))
    os.link(outside, inbox / "fresh.json")  # just written: an uploader may still unlink its other name
    first = drs("intake", "--today", "2026-11-23", "--json").json()
    assert first["results"] == [] and (inbox / "fresh.json").exists()
    settle(outside)  # untouched for a while and still linked elsewhere (like /etc/passwd)
    second = drs("intake", "--today", "2026-11-23", "--json").json()
    (result,) = second["results"]
    assert result["status"] == "rejected" and "other hard links" in result["errors"][0]
    assert second["imported"] == 0 and os.stat(outside).st_nlink == 1
    assert json.loads(outside.read_text())["form_id"] == "TT-OUT"  # the other name keeps the data


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("child_name", "Sam\u202eelif.exe", "child's name contains a text-direction override"),
        ("requester_name", "\u2067Ann\u2069", "requester name contains a text-direction override"),
        ("child_name", "\u200b\u200d", "child's name has no visible character"),
    ],
)
def test_names_that_would_print_reordered_or_blank_are_rejected(drs, inbox, field, value, reason):
    write_json(
        inbox / "r.json",
        [
            referral("TT-1", **{field: value}),
            referral("TT-2", child_name="مريم\u200f", requester_name="می\u200cخواهم 👨\u200d👩\u200d👧"),
        ],
    )
    settle(inbox / "r.json")
    doc = drs("intake", "--today", "2026-11-23", "--json").json()
    by_id = {x["form_id"]: x for x in doc["results"]}
    assert by_id["TT-1"]["status"] == "rejected" and by_id["TT-1"]["errors"][0].startswith(reason), by_id
    assert value not in json.dumps(doc, ensure_ascii=False)
    assert by_id["TT-2"]["status"] == "imported"  # RLM, ZWNJ and ZWJ sequences are text


def test_an_amount_nobody_wrote_is_invalid_not_rounded(las, drs, tmp_path):
    from tests.integration.test_claims_support import claim
    from tests.integration.test_claims_support import make_case as claim_case
    from tests.integration.test_claims_support import write_json as claims_json

    ref = claim_case(SALFORD, 1)
    rows = [
        claim("A-1", ref, 1, "parking", amount="4.505", receipt="yes"),
        claim("A-2", ref, 1, "parking", amount="1,2,3", receipt="yes"),
        claim("A-3", ref, 1, "parking", amount="££5", receipt="yes"),
        claim("A-4", ref, 1, "parking", amount="1e3", receipt="yes"),
        claim("A-5", ref, 1, "parking", amount=4.505, receipt="yes"),
        claim("A-6", ref, 1, "parking", amount="£1,00.00", receipt="yes"),
        claim("A-7", ref, 1, "parking", amount="£12.50", receipt="yes"),
        claim("A-8", ref, 1, "meal", amount=6.8),
    ]
    r = drs("claims", "import", str(claims_json(tmp_path / "c.json", rows)), "--today", "2026-11-27", "--json")
    assert r.exit_code == 0, r.stderr
    by_id = {x["claim_id"]: x for x in r.json()["results"]}
    penny = "amount has fractions of a penny (at most 2 decimal places)"
    bad = "amount is not an amount in pounds (write it like 4.50, £24.00 or 1,200)"
    assert [by_id[f"A-{n}"]["errors"] for n in range(1, 7)] == [[penny], [bad], [bad], [bad], [penny], [bad]]
    assert (by_id["A-7"]["status"], by_id["A-7"]["amount_pence"]) == ("approved", 1250)
    assert (by_id["A-8"]["status"], by_id["A-8"]["amount_pence"]) == ("approved", 680)


def test_reached_on_a_date_before_the_case_could_exist_is_refused(las, drs):
    from models.db import AuditEntry
    from tasks.db import unit_of_work

    ref = make_case(SALFORD, received_on=date(2026, 11, 20), letter_sent_on=date(2026, 11, 12))
    for on, words in (
        ("2026-11-01", "before the decision letter"),
        ("2026-11-15", "was received"),
        ("1999-12-31", "outside 2000-01-01"),
    ):
        r = drs("case", "contact", ref, "--reached", "--by", "phone", "--on", on, "--today", "2026-11-30")
        assert r.exit_code == 2 and words in r.stderr, (on, r.stderr)
    with unit_of_work() as db:
        assert (
            db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "contact:reached")) == 0
        )
    assert (
        drs(
            "case", "contact", ref, "--reached", "--by", "phone", "--on", "2026-11-20", "--today", "2026-11-30"
        ).exit_code
        == 0
    )


@pytest.mark.parametrize(
    "body, named",
    [
        ('{"due_soon_wd": 99999999}', "'due_soon_wd'=99999999 (a whole number from 0 to 60)"),
        ('{"appeal_reminder_days": 1000000000}', "'appeal_reminder_days'=1000000000 (a whole number from 0 to 366)"),
        ('{"missed_lookback_days": 99999999999999999999999}', "'missed_lookback_days'"),
        ('{"due_soon_wd_by_clock": {"certificate_due": 100000000}}', "'due_soon_wd_by_clock'"),
    ],
)
def test_a_huge_number_in_the_alert_policy_never_stops_the_monitor(las, drs, drs_env, body, named):
    # before: accepted as a good policy, then OverflowError in date arithmetic: exit 1 on every run,
    # and the bad file became "the last good version"
    from models.db import OutboxEmail
    from tasks.db import unit_of_work

    make_case(SALFORD, received_on=date(2026, 11, 20), letter_sent_on=date(2026, 11, 12))
    (drs_env.home / "alert-policy.json").write_text(body)
    for day in ("2026-11-23", "2026-11-24"):
        r = drs("monitor", "--today", day)
        assert r.exit_code == 0, r.stderr
    with unit_of_work() as db:
        bodies = list(db.scalars(select(OutboxEmail.body_text).where(OutboxEmail.kind == "admin-file-problem")))
    assert bodies and all(named in b for b in bodies)


def test_a_report_month_outside_the_sane_window_is_refused_before_anything_is_queued(las, drs):
    from models.db import OutboxEmail
    from tasks.db import unit_of_work

    for month in ("1999-12", "0001-01"):
        r = drs("report", "monthly", "--month", month, "--today", "2026-11-23")
        assert r.exit_code == 2 and "outside 2000-01-01 to 2100-12-31" in r.stderr, r.stderr
    with unit_of_work() as db:
        assert db.scalar(select(func.count()).select_from(OutboxEmail)) == 0


@pytest.fixture
def hanging_smtp(drs_env, monkeypatch):
    """A real TCP server speaking SMTP that takes each message (DATA … '.') and never confirms it."""
    import socket
    import threading

    from tasks.mail import smtp as mailer
    from tasks.settings import get_settings

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(20)
    stop = threading.Event()
    taken: list[int] = []

    def serve(conn):
        with conn, conn.makefile("rwb") as f:
            conn.sendall(b"220 hung.example ESMTP\r\n")
            for line in f:
                verb = line[:4].upper()
                if verb == b"DATA":
                    conn.sendall(b"354 go on\r\n")
                    for body in f:
                        if body == b".\r\n":
                            break
                    taken.append(1)
                    stop.wait(30)  # never confirms
                    return
                conn.sendall(b"221 bye\r\n" if verb == b"QUIT" else b"250 ok\r\n")

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("DRS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DRS_SMTP_PORT", str(listener.getsockname()[1]))
    monkeypatch.setenv("DRS_SMTP_SECURITY", "none")
    monkeypatch.setattr(mailer, "SMTP_TIMEOUT_SECONDS", 0.5)
    get_settings.cache_clear()
    yield taken
    stop.set()
    listener.close()
    get_settings.cache_clear()


def test_a_server_that_stops_confirming_costs_two_timeouts_not_one_per_email(drs, hanging_smtp):
    # before: every email of the batch waited the full SMTP timeout (84 emails: 42 minutes at 30 s)
    # and was charged an attempt; a scheduled run overlapped the next one
    import time
    from datetime import datetime

    from models.db import OutboxEmail
    from tasks.db import unit_of_work
    from tasks.mail.outbox import queue_email

    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    with unit_of_work() as db:
        for n in range(6):
            queue_email(
                db,
                key=f"qa12:{n}",
                kind="test",
                to=f"family{n}@families.example",
                subject="Hello",
                text="Hello",
                html="<p>Hello</p>",
                now=now,
            )
        db.commit()
    started = time.monotonic()
    r = drs("mail", "deliver", "--now", "2026-11-23T10:01:00+00:00")
    assert r.exit_code == 0, r.stderr
    assert time.monotonic() - started < 6 and len(hanging_smtp) == 2
    with unit_of_work() as db:
        rows = db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
        assert {row.status for row in rows} == {"pending"}  # nothing left in sending, nothing failed
        assert [row.attempts for row in rows] == [1, 1, 0, 0, 0, 0]


def test_a_form_id_or_claim_id_that_only_looks_like_another_is_rejected(drs, inbox, tmp_path):
    # before: 'F\u200b-1' and full-width 'Ｆ-1' were new cases beside 'F-1', not duplicates
    mail = "family@families.example"
    write_json(
        inbox / "r.json",
        [referral("F-1"), referral("F\u200b-1", requester_email=mail), referral("\uff26-1", requester_email=mail)],
    )
    settle(inbox / "r.json")
    doc = drs("intake", "--today", "2026-11-23", "--json").json()
    by_id = {x["form_id"]: x for x in doc["results"]}
    assert by_id["F-1"]["status"] == "imported" and doc["imported"] == 1
    assert by_id["F\u200b-1"]["errors"] == ["form_id contains an invisible character"]
    assert by_id["\uff26-1"]["errors"] == [
        "form_id contains look-alike characters (e.g. full-width letters); type it plainly"
    ]
    from tests.integration.test_claims_support import claim
    from tests.integration.test_claims_support import make_case as claim_case
    from tests.integration.test_claims_support import write_json as claims_json

    ref = claim_case(SALFORD, 1)
    r = drs(
        "claims",
        "import",
        str(claims_json(tmp_path / "c.json", [claim("C\u2060-1", ref, 1, miles="5")])),
        "--today",
        "2026-11-27",
        "--json",
    )
    assert r.json()["results"][0]["errors"] == ["claim_id contains an invisible character"]
