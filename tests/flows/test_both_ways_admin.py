"""The admin actions both ways on the same data (issue 13): each dashboard form (`flows/admin.py`)
and its action's one Prefect-free entry, called directly as `drs` calls it, must leave the same
database and files and return the same result. The forms read the real clock, so both ways run
with the clock pinned; the direct way runs as the same operator and actor ("dashboard").

Hold, release and erase have no dashboard form (no deployment): their one entry is exercised by
`drs case hold|release|erase` (tests/integration/test_privacy_*.py) and by the last test here,
which checks the entries leave what the CLI leaves."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.both_ways import DEFAULT_IGNORED, both_ways
from tests.integration.test_bounces import NOW as BOUNCE_NOW
from tests.integration.test_bounces import SALFORD, bounce, certificate_case, outbox
from tests.monitor_cases import make_case

pytestmark = pytest.mark.flow

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=ZoneInfo("Europe/London"))
OPERATOR = "Test Admin"
#: the real time an audit line was written: not decided by the data
IGNORED = DEFAULT_IGNORED | {"recorded_at"}


@pytest.fixture
def pinned(monkeypatch):
    """Both ways on the same clock: the forms' `resolve_now(None, None)` answers NOW."""
    import flows.admin_forms

    monkeypatch.setattr(flows.admin_forms, "resolve_now", lambda now=None, today=None: (TODAY, NOW))


def as_operator(entry):
    """The direct way: the entry, as the person who pressed Run (audited as them)."""
    from tasks.privacy.audit_trail import set_operator

    def run():
        set_operator(OPERATOR)
        try:
            result = entry()
        finally:
            set_operator(None)
        return result if isinstance(result, dict) else result.as_dict()

    return run


def declined_case() -> str:
    return make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", date(2026, 11, 24), {})),
    )


def test_certificate_issue_both_ways(prefect_harness, pinned, las, drs_env):
    from flows import admin
    from tasks.certificates.issue import issue_certificate

    ref = declined_case()
    d, f = both_ways(
        drs_env,
        as_operator(lambda: issue_certificate(ref, TODAY, today=TODAY, now=NOW, actor="dashboard", cert_type=None)),
        lambda: admin.issue_certificate(case_ref=ref, on=TODAY, your_name=OPERATOR),
        ignore=IGNORED,
    )
    assert d.summary == f.summary and d.summary["case_ref"] == ref
    assert d.tables == f.tables
    assert d.files == f.files and any(name.startswith("certificates/") for name, _ in d.files)


def test_case_event_both_ways(prefect_harness, pinned, las, drs_env):
    from flows import admin
    from tasks.cases.casework import record_case_event

    ref = declined_case()
    d, f = both_ways(
        drs_env,
        as_operator(
            lambda: record_case_event(ref, "closed", TODAY, today=TODAY, now=NOW, recorded_by="dashboard", items=[])
        ),
        lambda: admin.record_case_event(case_ref=ref, event="closed", on=TODAY, your_name=OPERATOR),
        ignore=IGNORED,
    )
    assert d.summary == f.summary == {"case_ref": ref, "event": "closed", "on": "2026-11-27", "status": "closed"}
    assert d.tables == f.tables
    assert d.files == f.files


@pytest.fixture
def bounced(las, drs, drs_env) -> str:
    """A certificate emailed to the family that bounced: an open, statutory contact problem."""
    ref = certificate_case(drs)
    assert drs("mail", "deliver", "--now", BOUNCE_NOW).exit_code == 0
    bounce([o for o in outbox() if o.kind == "certificate"][0].id)
    return ref


def test_contact_fix_both_ways(prefect_harness, pinned, bounced, drs_env):
    from flows import admin
    from tasks.bounces.contact_fix import correct_address

    new = "parent.right@families.example"
    d, f = both_ways(
        drs_env,
        as_operator(lambda: correct_address(bounced, new, role="family", now=NOW, actor="dashboard")),
        lambda: admin.correct_contact(case_ref=bounced, email=new, your_name=OPERATOR),
        ignore=IGNORED,
    )
    assert d.summary == f.summary and len(d.summary["resent"]) == 1
    assert d.tables == f.tables
    assert d.files == f.files


def test_contact_reached_both_ways(prefect_harness, pinned, bounced, drs_env):
    from flows import admin
    from tasks.bounces.contact_fix import record_reached

    d, f = both_ways(
        drs_env,
        as_operator(
            lambda: record_reached(
                bounced, by="phone", on=TODAY, note="rang", role="family", now=NOW, today=TODAY, actor="dashboard"
            )
        ),
        lambda: admin.record_contact_reached(case_ref=bounced, by="phone", on=TODAY, note="rang", your_name=OPERATOR),
        ignore=IGNORED,
    )
    assert d.summary == f.summary and d.summary["resolved"] == 1
    assert d.tables == f.tables
    assert d.files == f.files


def test_hold_release_erase_entries_leave_what_the_cli_leaves(bounced, drs, drs_env, monkeypatch):
    """No dashboard form for these: the entry called directly and `drs case …` (which calls it)
    must leave the same database, files and result."""
    import json

    from tasks.privacy.legal_hold import hold_case, release_case
    from tasks.privacy.retention import erase_case
    from tasks.settings import get_settings

    monkeypatch.setenv("DRS_OPERATOR", OPERATOR)  # the person at the keyboard, both ways
    get_settings.cache_clear()
    clock = ("--now", NOW.isoformat())

    def entries() -> list:
        return [
            hold_case(bounced, "tribunal appeal", NOW).as_dict(),
            release_case(bounced, NOW).as_dict(),
            erase_case(bounced, "erasure request", NOW).as_dict(),
        ]

    def cli() -> list:
        out = []
        for args in (("hold", bounced, "--reason", "tribunal appeal"), ("release", bounced)):
            r = drs("case", *args, *clock, "--json")
            assert r.exit_code == 0, r.stderr
            out.append(json.loads(r.stdout))
        r = drs("case", "erase", bounced, "--reason", "erasure request", *clock, "--json")
        assert r.exit_code == 0, r.stderr
        return [*out, json.loads(r.stdout)]

    d, c = both_ways(drs_env, entries, cli, ignore=IGNORED)
    assert d.summary == c.summary and d.summary[2]["cases"] == 1
    assert d.tables == c.tables
    assert d.files == c.files
