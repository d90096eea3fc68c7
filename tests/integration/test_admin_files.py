"""Admin-edited files never stop the service: extra-holidays.csv and alert-policy.json
(SQLite, and PostgreSQL when DRS_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from models.db import OutboxEmail
from tasks.db import unit_of_work
from tests.intake_samples import referral, write_json

PROCLAIMED = date(2027, 6, 7)  # a Monday


def notices() -> list[tuple[str, str, str]]:
    with unit_of_work() as db:
        return [
            (r.key, r.subject, r.body_text)
            for r in db.scalars(
                select(OutboxEmail).where(OutboxEmail.kind == "admin-file-problem").order_by(OutboxEmail.id)
            )
        ]


def calendar():
    from tasks.deadlines.calendar_source import working_calendar

    return working_calendar()


@pytest.mark.parametrize(
    "text",
    [
        "2027-06-07,Proclaimed bank holiday\n",  # the README's own example: no header
        "date,name\n2027-06-07,Proclaimed bank holiday\n",
        "\ufeffDate;Name\r\n# proclaimed\r\n\r\n07/06/2027;Proclaimed bank holiday\r\n",
        "2027-06-07\n",
    ],
)
def test_the_documented_forms_are_accepted(drs_env, text):
    (drs_env.home / "extra-holidays.csv").write_text(text, encoding="utf-8")
    assert not calendar().is_working_day(PROCLAIMED)
    assert calendar().is_working_day(date(2027, 6, 8))
    from tasks.deadlines.admin_files import admin_problems

    assert admin_problems() == []


def test_a_wrong_line_keeps_the_last_good_calendar_and_tells_the_team_once_a_day(drs_env, las, drs):
    path = drs_env.home / "extra-holidays.csv"
    path.write_text("2027-06-07,Proclaimed bank holiday\n")
    assert not calendar().is_working_day(PROCLAIMED)  # a good version: kept as the last good one
    path.write_text("2027-06-07,Proclaimed bank holiday\n2027-06-31,Typo\n2027-07-05,Another\n")
    assert not calendar().is_working_day(PROCLAIMED)
    assert calendar().is_working_day(date(2027, 7, 5))  # the wrong file is not used at all
    inbox = drs_env.home / "inbox" / "referrals"
    write_json(inbox / "a.json", [referral("TT-1"), referral("TT-2", child_name="Second Child")])
    r = drs("intake", "--today", "2026-11-23", "--json")
    assert r.exit_code == 0 and r.json()["imported"] == 2  # never rejected for it
    assert drs("monitor", "--today", "2026-11-23").exit_code == 0
    assert drs("monitor", "--today", "2026-11-23").exit_code == 0
    told = notices()
    assert len(told) == 1
    key, subject, body = told[0]
    assert key.startswith("admin-file:extra-holidays.csv:") and key.endswith(":2026-11-23")
    assert "extra-holidays.csv" in subject
    assert f"{path} line 2" in body and "'2027-06-31' is not a date" in body
    assert "last good version" in body
    # the next day, still wrong: told again (once); corrected: nothing more, the new file in force
    assert drs("monitor", "--today", "2026-11-24", "--now", "2026-11-24T07:00:00+00:00").exit_code == 0
    assert len(notices()) == 2
    path.write_text("date,name\n2027-06-07,Proclaimed\n2027-07-05,Another\n")
    assert drs("monitor", "--today", "2026-11-25", "--now", "2026-11-25T07:00:00+00:00").exit_code == 0
    assert len(notices()) == 2 and not calendar().is_working_day(date(2027, 7, 5))


def test_a_wrong_file_with_no_good_version_ever_uses_the_bank_holidays_alone(drs_env, las, drs):
    (drs_env.home / "extra-holidays.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert calendar().is_working_day(PROCLAIMED)
    assert not calendar().is_working_day(date(2026, 12, 25))
    assert drs("monitor", "--today", "2026-11-23").exit_code == 0
    assert "not UTF-8" in notices()[0][2]


def test_a_mistyped_alert_policy_keeps_the_service_running_and_names_the_setting(drs_env, las, drs):
    from tasks.deadlines.sweep import load_policy

    policy_file = drs_env.home / "alert-policy.json"
    policy_file.write_text('{"due_soon_wd": 3}')
    assert load_policy().due_soon_wd == 3
    policy_file.write_text('{"due_soon_wd": "three"}')
    assert load_policy().due_soon_wd == 3  # the last good one
    r = drs("monitor", "--today", "2026-11-23")
    assert r.exit_code == 0, r.stderr
    ((key, subject, body),) = notices()
    assert key.startswith("admin-file:alert-policy.json:") and "due_soon_wd" in body
    policy_file.write_text("{not json")
    assert drs("monitor", "--today", "2026-11-23").exit_code == 0
    assert len(notices()) == 2 and "not valid JSON" in notices()[1][2]


def test_a_pipe_or_folder_in_place_of_an_admin_file_never_blocks(drs_env):
    import os

    from tasks.deadlines.admin_files import admin_problems
    from tasks.deadlines.sweep import load_policy

    os.mkfifo(drs_env.home / "extra-holidays.csv")
    (drs_env.home / "alert-policy.json").mkdir()
    assert calendar().is_working_day(PROCLAIMED)
    load_policy()
    assert sorted(label for label, *_ in admin_problems()) == ["alert-policy.json", "extra-holidays.csv"]


def test_a_bad_policy_with_no_good_version_uses_the_defaults(drs_env):
    from models.domain.alerts import DEFAULT_POLICY
    from tasks.deadlines.admin_files import check_admin_files
    from tasks.deadlines.sweep import load_policy

    (drs_env.home / "alert-policy.json").write_text('["not", "an", "object"]')
    assert load_policy() == DEFAULT_POLICY
    messages = check_admin_files(datetime(2026, 11, 23, 9, tzinfo=UTC))
    assert len(messages) == 1 and "alert-policy.json" in messages[0]
