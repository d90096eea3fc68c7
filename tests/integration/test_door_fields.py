"""Validation at the door (issue #12 §4), through the CLI on SQLite and PostgreSQL: notes and names
without control characters or NUL, length limits, objects refused as text, one email check,
form_id / claim_id reuse for someone else rejected, https-only meeting links, user errors exit 2."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from models.domain.fields import NOTE_MAX
from tests.intake_samples import referral, write_json
from tests.monitor_cases import make_case

SALFORD = "E08000006"
MEDIATOR = "mia@service.example.org"


def _notes() -> list[str | None]:
    from models.db import CaseEvent
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        return list(db.scalars(select(CaseEvent.note).order_by(CaseEvent.id)))


def _case() -> str:
    return make_case(SALFORD, received_on=date(2026, 11, 20), letter_sent_on=date(2026, 11, 12))


@pytest.mark.parametrize(
    "note, reason",
    [
        ("before\x00after", "note contains a NUL character"),
        ("bell\x07", "note contains a control character"),
        ("x" * (NOTE_MAX + 1), f"note is too long (at most {NOTE_MAX} characters)"),
    ],
)
def test_a_hostile_event_note_is_refused_with_one_line(las, drs, note, reason):
    ref = _case()
    before = _notes()
    r = drs("case", "event", ref, "information-given", "--on", "2026-11-23", "--today", "2026-11-23", "--note", note)
    assert r.exit_code == 2, r.stderr
    assert r.stderr.strip().splitlines() == [f"drs: error: {reason}"]
    assert _notes() == before


def test_a_multi_line_note_in_any_script_is_kept(las, drs):
    ref = _case()
    note = "Rang the family\nالعائلة ستتصل\u200f — 🌈"
    r = drs("case", "event", ref, "information-given", "--on", "2026-11-23", "--today", "2026-11-23", "--note", note)
    assert r.exit_code == 0, r.stderr
    assert _notes()[-1] == note


@pytest.fixture
def inbox(drs_env, las):
    path = drs_env.home / "inbox" / "referrals"
    path.mkdir(parents=True)
    return path


def test_a_form_id_reused_for_another_child_or_la_is_a_conflict_not_a_duplicate(drs, inbox):
    write_json(inbox / "a.json", referral("TT-1"))
    first = drs("intake", "--today", "2026-11-23", "--json")
    assert first.exit_code == 0, first.stderr
    ref = first.json()["results"][0]["case_ref"]
    write_json(
        inbox / "b.json",
        [
            referral("TT-1"),  # the same form again: a duplicate
            referral("TT-1", child_name="Someone Else Entirely"),  # another child
            referral("TT-1", child_date_of_birth="2016-01-01"),  # another child (date of birth)
            referral("TT-1", local_authority="Manchester"),  # another LA
        ],
    )
    second = drs("intake", "--today", "2026-11-23", "--json")
    assert second.exit_code == 0, second.stderr
    results = second.json()["results"]
    assert [r["status"] for r in results] == ["duplicate", "rejected", "rejected", "rejected"]
    for r in results[1:]:
        assert r["errors"] == [f"form TT-1 was already imported for another child/LA: see {ref}"]
        assert "Someone" not in json.dumps(r)
    errors = json.loads((inbox / "rejected" / "b.json.errors.json").read_text())
    assert "Someone Else" not in json.dumps(errors)


def test_an_object_where_a_name_is_expected_is_rejected_and_nul_never_reaches_the_database(drs, inbox):
    from models.db import Case
    from tasks.db import unit_of_work

    record = referral("TT-2")
    record["child"]["name"] = {"first": "Sam", "last": "Child"}
    nul = referral("TT-3", notes="ok\x00not ok")
    write_json(inbox / "c.json", [record, nul, referral("TT-4", requester_email="parent@families")])
    r = drs("intake", "--today", "2026-11-23", "--json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert (doc["imported"], doc["rejected"]) == (0, 3)
    assert doc["results"][0]["errors"] == ["child's name is a list or an object, not text"]
    assert doc["results"][1]["errors"] == ["notes contains a NUL character"]
    assert doc["results"][2]["errors"] == ["requester email does not look like an email address"]
    with unit_of_work() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_a_claim_id_reused_for_another_claimant_and_hostile_claim_fields_are_rejected(las, drs, tmp_path):
    from tests.integration.test_claims_support import claim
    from tests.integration.test_claims_support import make_case as claim_case
    from tests.integration.test_claims_support import write_json as claims_json

    ref = claim_case(SALFORD, 1)
    assert (
        drs(
            "claims",
            "import",
            str(claims_json(tmp_path / "a.json", [claim("C-1", ref, 1, miles="5")])),
            "--today",
            "2026-11-27",
        ).exit_code
        == 0
    )
    rows = [
        claim("C-1", ref, 1, miles="5", name="Another Person", email="another@families.example.org"),
        claim("C-2", ref, 1, miles="5", name={"first": "Parent"}),
        claim("C-3", ref, 1, "meal", amount="5", description="dinner\x00"),
        claim("C-4", ref, 1, miles="5", email="parent1@families"),
        claim("C-5", ref, 1, miles="5", session_date="1999-11-10"),
    ]
    r = drs("claims", "import", str(claims_json(tmp_path / "b.json", rows)), "--today", "2026-11-27", "--json")
    assert r.exit_code == 0, r.stderr
    by_id = {x["claim_id"]: x for x in r.json()["results"]}
    assert by_id["C-1"]["errors"] == [f"claim C-1 was already imported for another claimant: see {ref}"]
    assert by_id["C-2"]["errors"] == ["claimant_name is a list or an object, not text"]
    assert by_id["C-3"]["errors"] == ["description contains a NUL character"]
    assert by_id["C-4"]["errors"] == ["claimant_email is not an email address"]
    assert by_id["C-5"]["errors"] == ["session_date is outside 2000-01-01 to 2100-12-31"]
    assert {x["status"] for x in by_id.values()} == {"invalid"}


@pytest.fixture
def booking(las, drs):
    assert drs("mediator", "add", "--name", "Mia Mediator", "--email", MEDIATOR).exit_code == 0
    return _case()


@pytest.mark.parametrize(
    "extra, reason",
    [
        (("--online", "http://meet.example.org/abc"), "--online link must start with https://"),
        (("--online", "https://meet_example/abc"), "--online link does not name a valid host"),
        (("--online", "javascript:alert(1)"), "--online link must start with https://"),
        (("--venue", "Hall\r\nX-Injected: 1"), "--venue contains a line break or tab (one line only)"),
        (
            ("--venue", "Hall", "--attendee", "Bo\nBo=bo@example.org"),
            "--attendee: the name contains a line break or tab (one line only)",
        ),
        (
            ("--venue", "Hall", "--attendee", "Bo=bo@example"),
            "--attendee: the email address is not valid (use NAME=EMAIL)",
        ),
        (("--venue", "Hall", "--access-notes", "ramp\x00"), "--access-notes contains a NUL character"),
    ],
)
def test_meeting_places_links_and_attendees_are_checked(drs, booking, extra, reason):
    r = drs(
        "session",
        "schedule",
        booking,
        "--start",
        "2026-12-14T10:00",
        "--mediator",
        MEDIATOR,
        *extra,
        "--now",
        "2026-11-23T10:00+00:00",
    )
    assert r.exit_code == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1] == f"drs: error: {reason}"


def test_an_https_link_books_the_meeting(drs, booking):
    r = drs(
        "session",
        "schedule",
        booking,
        "--start",
        "2026-12-14T10:00",
        "--mediator",
        MEDIATOR,
        "--online",
        "https://meet.example.org/abc",
        "--now",
        "2026-11-23T10:00+00:00",
    )
    assert r.exit_code == 0, r.stderr


def test_user_errors_exit_2_with_one_line(las, drs, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for args in (
        ("mediator", "add", "--name", "Mo", "--email", "mo@localhost"),
        ("mediator", "add", "--name", "Mo\x00", "--email", "mo@service.example.org"),
        ("report", "monthly", "--month", "2026-13"),
        ("report", "monthly", "--month", "2026-10", "--out", str(blocker / "sub")),
        ("case", "show", "DRS-2026-99999"),
        ("case", "show", "DRS-2026-00001\x00"),
        ("case", "event", "DRS-2026-\x0000001", "closed", "--on", "2026-11-23"),
        (
            "session",
            "schedule",
            _case(),
            "--start",
            "2026-12-14T10:00",
            "--venue",
            "Hall",
            "--mediator",
            "mia\x00@service.example.org",
            "--now",
            "2026-11-23T10:00+00:00",
        ),
    ):
        r = drs(*args)
        assert r.exit_code == 2, (args, r.exit_code, r.stderr)
        assert len([line for line in r.stderr.splitlines() if line.startswith("drs: error")]) == 1, r.stderr
