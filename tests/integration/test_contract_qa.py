"""QA against the documented contract (README.md, docs/) from the outside: the `drs` command only, as a user or a script would
call it (SQLite, and PostgreSQL when DRS_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import json

import pytest

from tests.intake_samples import CHILD_NAME, referral, settle, write_json


@pytest.fixture
def inbox(drs_env, las):
    path = drs_env.home / "inbox" / "referrals"
    path.mkdir(parents=True)
    return path


def intake(drs, path, *args):
    r = drs("intake", str(path), *args, "--json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def clocks(drs, ref, today="2026-11-28"):
    r = drs("case", "show", ref, "--json", "--today", today)
    assert r.exit_code == 0, r.stderr
    return r.json()


def test_mail_deliver_sends_emails_queued_by_a_run_with_a_later_today(drs, inbox, tmp_path):
    # `drs intake --today D` reads "now" as 09:00 on D; `drs mail deliver` (no date option in the
    # contract) runs at the real time, which may be earlier: fresh emails must still go.
    doc = intake(
        drs, write_json(tmp_path / "r.json", [referral("QA-1", wants_mediation="yes")]), "--today", "2026-11-23"
    )
    assert doc["imported"] == 1
    r = drs("mail", "deliver", "--json", "--now", "2026-11-23T06:30:00+00:00")
    assert r.exit_code == 0, r.stderr
    assert r.json()["sent"] == 3 and r.json()["remaining"] == 0
    sent = sorted((inbox.parent.parent / "outbox" / "sent").glob("*.eml"))
    assert len(sent) == 3 and all(p.name.startswith("outbox-") for p in sent)  # ids, never addresses
    for path in sent:
        subject = next(line for line in path.read_text().splitlines() if line.startswith("Subject:"))
        assert CHILD_NAME.split()[0] not in subject and CHILD_NAME.split()[1] not in subject


def test_a_quiet_hours_hold_still_waits(drs, inbox, tmp_path):
    # read at 22:00 local: the family's acknowledgement is held until 08:00, the team's notice goes
    intake(drs, write_json(tmp_path / "r.json", [referral("QA-2")]), "--now", "2026-11-23T22:00:00+00:00")
    r = drs("mail", "deliver", "--json", "--now", "2026-11-23T22:05:00+00:00")
    assert (r.json()["sent"], r.json()["remaining"]) == (1, 1)
    r = drs("mail", "deliver", "--json", "--now", "2026-11-24T08:00:00+00:00")
    assert (r.json()["sent"], r.json()["remaining"]) == (1, 0)


def test_a_malformed_inbox_file_ends_in_processed_with_a_copy_in_rejected(drs, inbox):
    (inbox / "broken.json").write_text('{"form_id": ')
    settle(inbox / "broken.json")
    r = drs("intake", "--today", "2026-11-23", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["rejected"] == 1
    assert (inbox / "processed" / "broken.json").read_bytes() == b'{"form_id": '
    assert (inbox / "rejected" / "broken.json").read_bytes() == b'{"form_id": '
    assert json.loads((inbox / "rejected" / "broken.json.errors.json").read_text())["readable"] is False
    assert not (inbox / "broken.json").exists()


def test_certificate_issued_without_type_takes_it_from_the_case(drs, inbox, tmp_path):
    # docs/rules.md §6: decision sent Wed 31 Dec 2025, certificate Thu 15 Jan 2026 -> Mon 2 Mar 2026
    doc = intake(
        drs,
        write_json(
            tmp_path / "r.json",
            [
                referral("QA-3", decision_letter_sent_on="2025-12-31", submitted_at="2026-01-05T10:00:00Z"),
                referral(
                    "QA-4",
                    decision_letter_sent_on="2025-11-01",
                    submitted_at="2025-11-20T10:00:00Z",
                    child_name="Another Child",
                ),
            ],
        ),
        "--today",
        "2026-11-23",
    )
    first, second = (x["case_ref"] for x in doc["results"])
    r = drs("case", "event", first, "certificate-issued", "--on", "2026-01-15")
    assert r.exit_code == 0, r.stderr
    case = clocks(drs, first)
    assert case["events"][-1] == {"event": "certificate-issued", "on": "2026-01-15", "type": "declined"}
    assert case["clocks"]["appeal_deadline"]["due"] == "2026-03-02"
    # the LA says it cannot arrange mediation: a certificate issued then is the deemed one
    for event, on in (
        ("mediation-requested", "2025-11-28"),
        ("la-received-request", "2025-12-01"),
        ("la-cannot-arrange", "2025-12-24"),
        ("certificate-issued", "2025-12-30"),
    ):
        assert drs("case", "event", second, event, "--on", on).exit_code == 0
    case = clocks(drs, second)
    assert case["events"][-1]["type"] == "deemed"
    assert case["clocks"]["certificate_due"]["due"] == "2025-12-31"
    assert case["clocks"]["certificate_due"]["state"] == "met"


@pytest.mark.parametrize(
    "letter, submitted, events, expected",
    [
        # docs/rules.md §6 worked examples, walked through the CLI
        (
            "2025-04-01",
            "2025-04-10T10:00:00Z",
            [("mediation-declined", "2025-04-17", ())],
            {"certificate_due": "2025-04-24"},
        ),
        (
            "2025-04-01",
            "2025-04-10T10:00:00Z",
            [
                ("mediation-requested", "2025-04-14", ()),
                ("la-received-request", "2025-04-15", ()),
                ("mediation-concluded", "2025-05-02", ()),
            ],
            {"certificate_due": "2025-05-08"},
        ),
        (
            "2025-11-01",
            "2025-11-20T10:00:00Z",
            [("mediation-requested", "2025-11-28", ()), ("la-received-request", "2025-12-01", ())],
            {"mediation_by": "2025-12-31"},
        ),
        (
            "2026-10-01",
            "2026-10-05T10:00:00Z",
            [("certificate-issued", "2026-11-27", ("--type", "declined"))],
            {"appeal_deadline": "2027-01-04"},
        ),
        (
            "2026-04-01",
            "2026-04-10T10:00:00Z",
            [("mediation-concluded", "2026-05-05", ()), ("agreement-reached", "2026-05-05", ("--item", "issue-plan"))],
            {"agreement_issue-plan_draft": "2026-06-09", "agreement_issue-plan_final": "2026-07-21"},
        ),
        # our own: Christmas 2026 (25 and 28 Dec), August appeal rule, 31 Dec + 2 months, Easter 2026
        (
            "2026-12-01",
            "2026-12-02T10:00:00Z",
            [("mediation-declined", "2026-12-23", ())],
            {"certificate_due": "2026-12-30"},
        ),
        (
            "2026-06-15",
            "2026-06-16T10:00:00Z",
            [],
            {"appeal_deadline": "2026-09-01", "contact_adviser_by": "2026-08-15"},
        ),
        (
            "2026-12-31",
            "2027-01-04T10:00:00Z",
            [],
            {"appeal_deadline": "2027-03-01", "contact_adviser_by": "2027-02-28"},
        ),
        (
            "2026-03-20",
            "2026-03-23T10:00:00Z",
            [("mediation-declined", "2026-04-02", ())],
            {"certificate_due": "2026-04-09"},
        ),
    ],
)
def test_worked_examples_through_the_command_line(drs, inbox, tmp_path, letter, submitted, events, expected):
    doc = intake(
        drs,
        write_json(tmp_path / "r.json", [referral("QA-W", decision_letter_sent_on=letter, submitted_at=submitted)]),
        "--today",
        "2027-02-01",
    )
    ref = doc["results"][0]["case_ref"]
    for event, on, extra in events:
        r = drs("case", "event", ref, event, "--on", on, *extra, "--today", "2027-02-01")
        assert r.exit_code == 0, r.stderr
    got = clocks(drs, ref, "2027-02-01")["clocks"]
    assert {name: got[name]["due"] for name in expected} == expected


def test_different_forms_for_the_same_child_are_different_cases(drs, inbox, tmp_path):
    # README.md "Referrals": `form_id` makes a referral idempotent — only the same form twice is one case
    doc = intake(
        drs,
        write_json(tmp_path / "r.json", [referral("QA-5"), referral("QA-6", wants_mediation="no"), referral("QA-5")]),
        "--today",
        "2026-11-23",
    )
    assert (doc["imported"], doc["duplicates"], doc["rejected"]) == (2, 1, 0)
    assert [(x["form_id"], x["status"], x["case_ref"]) for x in doc["results"]] == [
        ("QA-5", "imported", "DRS-2026-00001"),
        ("QA-6", "imported", "DRS-2026-00002"),
        ("QA-5", "duplicate", "DRS-2026-00001"),
    ]
    assert [x["errors"] for x in doc["results"][:2]] == [[], []]
    assert clocks(drs, "DRS-2026-00001")["events"] == []
    assert [e["event"] for e in clocks(drs, "DRS-2026-00002")["events"]] == ["mediation-declined"]


def test_drs_intake_takes_an_inbox_file_written_just_now(drs, inbox):
    # a user (or script) drops a file in the inbox and runs `drs intake` at once: it is imported
    (inbox / "fresh.json").write_text(json.dumps(referral("QA-7")))
    (inbox / "partial.json.part").write_text("{")
    r = drs("intake", "--today", "2026-11-23", "--json")
    assert r.exit_code == 0, r.stderr
    assert [(x["source"], x["status"]) for x in r.json()["results"]] == [("fresh.json", "imported")]
    assert (inbox / "processed" / "fresh.json").exists() and (inbox / "partial.json.part").exists()
    # and with nothing new, nothing happens
    assert drs("intake", "--today", "2026-11-23", "--json").json() == {
        "imported": 0,
        "duplicates": 0,
        "rejected": 0,
        "results": [],
    }
