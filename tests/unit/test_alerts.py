"""Table tests of `alerts_due`: the right alert on the right day, over the worked examples and
Christmas, Easter, August and DST weekends (statutory-rules.md §1, §6; issue #4)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from models.domain.alerts import (
    DEFAULT_POLICY,
    Alert,
    AlertPolicy,
    WatchedClock,
    alert_key,
    alerts_due,
    not_before_for,
    policy_from_mapping,
)
from models.domain.calendar import WorkingCalendar
from models.domain.digest import digest_rows, group_by

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def england() -> WorkingCalendar:
    return WorkingCalendar(holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2029)).keys())


def clock(
    name="certificate_due", target=date(2025, 4, 24), due=None, owner="adviser", state="open", **kw
) -> WatchedClock:
    return WatchedClock(
        case_ref="DRS-2025-00001",
        la_code="E08000006",
        name=name,
        due=due or target,
        target=target,
        state=state,
        owner=owner,
        **kw,
    )


def timeline(c: WatchedClock, first: date, last: date, cal: WorkingCalendar, policy=DEFAULT_POLICY) -> dict[str, str]:
    """day -> the alert kinds due that day ('' for none), for a range of days."""
    out = {}
    day = first
    while day <= last:
        out[f"{day:%a %d %b}"] = ",".join(a.kind for a in alerts_due([c], day, cal, policy))
        day += timedelta(days=1)
    return out


# --- team alerts: the worked examples and the holiday weekends -----------------------------------


def test_declined_before_easter_counts_down_over_good_friday_and_easter_monday(england):
    # SECONDARY: declined Thu 17 Apr 2025 -> certificate_due Thu 24 Apr 2025 (reg 34)
    got = timeline(clock(target=date(2025, 4, 24)), date(2025, 4, 17), date(2025, 4, 25), england)
    assert got == {
        "Thu 17 Apr": "",
        "Fri 18 Apr": "",
        "Sat 19 Apr": "",
        "Sun 20 Apr": "",
        "Mon 21 Apr": "",
        "Tue 22 Apr": "due-soon",
        "Wed 23 Apr": "due-soon",
        "Thu 24 Apr": "due-today",
        "Fri 25 Apr": "missed",
    }


def test_after_mediation_over_the_may_bank_holiday(england):
    # SECONDARY: concluded Fri 2 May 2025 -> certificate_due Thu 8 May 2025 (CFA s.55(5); reg 39)
    got = timeline(clock(target=date(2025, 5, 8), owner="mediator"), date(2025, 5, 2), date(2025, 5, 9), england)
    assert got == {
        "Fri 02 May": "",
        "Sat 03 May": "",
        "Sun 04 May": "",
        "Mon 05 May": "",
        "Tue 06 May": "due-soon",
        "Wed 07 May": "due-soon",
        "Thu 08 May": "due-today",
        "Fri 09 May": "missed",
    }


def test_mediation_by_over_christmas_goes_to_the_la_and_the_team(england):
    # SECONDARY: LA receives Mon 1 Dec 2025 -> mediation_by Wed 31 Dec 2025 (CFA ss.53-54)
    c = clock(name="mediation_by", target=date(2025, 12, 31), owner="la")
    got = timeline(c, date(2025, 12, 22), date(2026, 1, 2), england)
    assert got == {
        "Mon 22 Dec": "",
        "Tue 23 Dec": "",
        "Wed 24 Dec": "",
        "Thu 25 Dec": "",
        "Fri 26 Dec": "",
        "Sat 27 Dec": "",
        "Sun 28 Dec": "",
        "Mon 29 Dec": "due-soon",
        "Tue 30 Dec": "due-soon",
        "Wed 31 Dec": "due-today",
        "Thu 01 Jan": "missed",
        "Fri 02 Jan": "missed",
    }
    (alert,) = alerts_due([c], date(2025, 12, 29), england)
    assert alert.audiences == ("la", "team")
    assert alert.working_days_left == 2


def test_deemed_certificate_over_christmas_goes_to_the_team_only(england):
    # SECONDARY: LA cannot arrange, Wed 24 Dec 2025 -> deemed certificate_due Wed 31 Dec 2025
    (alert,) = alerts_due([clock(target=date(2025, 12, 31), note="deemed")], date(2025, 12, 29), england)
    assert (alert.kind, alert.audiences, alert.note) == ("due-soon", ("team",), "deemed")


def test_calendar_day_deadline_on_a_saturday_alerts_against_the_friday_over_the_october_dst_weekend(england):
    # LA receives Thu 1 Oct 2026 -> mediation_by Sat 31 Oct 2026; target Fri 30 Oct (no roll-forward).
    # Clocks go back on Sun 25 Oct 2026.
    c = clock(name="mediation_by", due=date(2026, 10, 31), target=date(2026, 10, 30), owner="la")
    got = timeline(c, date(2026, 10, 24), date(2026, 11, 2), england)
    assert got == {
        "Sat 24 Oct": "",
        "Sun 25 Oct": "",
        "Mon 26 Oct": "",
        "Tue 27 Oct": "",
        "Wed 28 Oct": "due-soon",
        "Thu 29 Oct": "due-soon",
        "Fri 30 Oct": "due-today",
        "Sat 31 Oct": "missed",
        "Sun 01 Nov": "missed",
        "Mon 02 Nov": "missed",
    }


def test_icb_notification_over_the_march_dst_weekend(england):
    # SECONDARY: LA receives Thu 26 Mar 2026 with health issues -> icb_notify_by Tue 31 Mar 2026.
    # Clocks go forward on Sun 29 Mar 2026.
    c = clock(name="icb_notify_by", target=date(2026, 3, 31), owner="la")
    got = timeline(c, date(2026, 3, 26), date(2026, 4, 1), england)
    assert got == {
        "Thu 26 Mar": "",
        "Fri 27 Mar": "due-soon",
        "Sat 28 Mar": "due-soon",
        "Sun 29 Mar": "due-soon",
        "Mon 30 Mar": "due-soon",
        "Tue 31 Mar": "due-today",
        "Wed 01 Apr": "missed",
    }


def test_agreement_follow_up_is_an_la_clock(england):
    # VERIFIED/SECONDARY: agreement Tue 5 May 2026 to issue a plan: draft by Tue 9 Jun 2026
    c = clock(name="agreement_issue-plan_draft", target=date(2026, 6, 9), owner="la")
    assert [a.kind for a in alerts_due([c], date(2026, 6, 5), england)] == ["due-soon"]
    assert alerts_due([c], date(2026, 6, 4), england) == []


@pytest.mark.parametrize("state", ["met", "not_applicable"])
def test_met_and_not_applicable_clocks_never_alert(england, state):
    assert alerts_due([clock(state=state)], date(2025, 4, 24), england) == []
    assert alerts_due([clock(state=state)], date(2025, 4, 30), england) == []


def test_a_clock_already_marked_missed_still_alerts_missed(england):
    assert [a.kind for a in alerts_due([clock(state="missed")], date(2025, 4, 28), england)] == ["missed"]


def test_catch_up_after_downtime_gives_only_the_current_level(england):
    # the monitor was down Tue 22 - Thu 24 Apr 2025: on Fri 25 the only alert is "missed"
    assert [a.kind for a in alerts_due([clock()], date(2025, 4, 25), england)] == ["missed"]


def test_a_clock_missed_long_ago_is_not_announced_again(england):
    policy = AlertPolicy(missed_lookback_days=10)
    assert alerts_due([clock()], date(2025, 5, 4), england, policy)[0].kind == "missed"
    assert alerts_due([clock()], date(2025, 5, 5), england, policy) == []


def test_family_owned_clocks_give_the_team_no_alert(england):
    c = clock(name="contact_adviser_by", owner="family", target=date(2025, 4, 24))
    assert alerts_due([c], date(2025, 4, 24), england) == []
    assert alerts_due([c], date(2025, 4, 25), england) == []


# --- configurable lead times and levels ---------------------------------------------------------


def test_lead_time_is_configurable_per_clock(england):
    policy = AlertPolicy(due_soon_wd_by_clock={"certificate_due": 3, "agreement_": 5})
    got = timeline(clock(), date(2025, 4, 16), date(2025, 4, 17), england, policy)
    assert got == {"Wed 16 Apr": "", "Thu 17 Apr": "due-soon"}
    c = clock(name="agreement_other_do", target=date(2026, 6, 9), owner="la")
    assert alerts_due([c], date(2026, 6, 2), england, policy)[0].kind == "due-soon"
    assert alerts_due([c], date(2026, 6, 1), england, policy) == []


def test_a_level_can_be_switched_off(england):
    policy = policy_from_mapping({"kinds": ["due-today", "missed"], "due_soon_wd": 4})
    assert policy.due_soon_wd == 4
    assert alerts_due([clock()], date(2025, 4, 23), england, policy) == []
    assert alerts_due([clock()], date(2025, 4, 24), england, policy)[0].kind == "due-today"


def test_bad_policy_settings_are_refused():
    with pytest.raises(ValueError, match="due_soon_wd"):
        policy_from_mapping({"due_soon_wd": -1})
    with pytest.raises(ValueError, match="nonsense"):
        policy_from_mapping({"nonsense": 1})


@pytest.mark.parametrize(
    "values,named",
    [
        ({"kinds": ["due-today", "mised"]}, "kinds"),  # a typo must not silence every alert
        ({"kinds": "missed"}, "kinds"),  # a string is not a list of levels
        ({"due_soon_wd_by_clock": {"certificate_due": "3"}}, "due_soon_wd_by_clock"),
        ({"due_soon_wd_by_clock": ["certificate_due"]}, "due_soon_wd_by_clock"),
    ],
)
def test_a_mistyped_level_or_lead_time_is_refused_with_the_setting_named(values, named):
    with pytest.raises(ValueError, match=named):
        policy_from_mapping(values)


def test_a_policy_file_that_is_not_an_object_is_refused():
    with pytest.raises(ValueError, match="object"):
        policy_from_mapping(["due-today"])  # type: ignore[arg-type]


# --- the family's appeal reminders ---------------------------------------------------------------


def appeal(due: date, **kw) -> WatchedClock:
    kw.setdefault("certificate_settled", True)
    return clock(name="appeal_deadline", target=due, owner="family", **kw)


def test_family_reminders_two_weeks_and_three_working_days_before_an_august_deadline(england):
    # VERIFIED: letter Tue 2 Jun 2026 -> A = Sun 2 Aug 2026, in the August window -> first working
    # day after 31 Aug (Mon 31 Aug is a bank holiday) = Tue 1 Sep 2026 (HESC r.12)
    got = timeline(appeal(date(2026, 9, 1)), date(2026, 8, 17), date(2026, 9, 2), england)
    two_weeks = {f"{date(2026, 8, d):%a %d %b}" for d in range(18, 26)}
    three_wd = {f"{date(2026, 8, d):%a %d %b}" for d in range(26, 32)} | {"Tue 01 Sep"}
    assert {d for d, k in got.items() if k == "appeal-2-weeks"} == two_weeks
    assert {d for d, k in got.items() if k == "appeal-3-wd"} == three_wd
    assert got["Mon 17 Aug"] == "" and got["Wed 02 Sep"] == ""
    (alert,) = alerts_due([appeal(date(2026, 9, 1))], date(2026, 8, 26), england)
    assert alert.audiences == ("family",) and alert.for_family


def test_family_reminders_before_the_christmas_deadline_of_the_worked_example(england):
    # VERIFIED: letter Thu 1 Oct 2026, certificate Fri 27 Nov 2026 -> appeal_deadline Mon 4 Jan 2027.
    # 3 WD before: Thu 31 Dec, Wed 30 Dec, Tue 29 Dec (25 and 28 Dec, 1 Jan are bank holidays).
    got = timeline(appeal(date(2027, 1, 4)), date(2026, 12, 20), date(2027, 1, 5), england)
    assert got["Sun 20 Dec"] == "" and got["Mon 21 Dec"] == "appeal-2-weeks"
    assert got["Mon 28 Dec"] == "appeal-2-weeks" and got["Tue 29 Dec"] == "appeal-3-wd"
    assert got["Mon 04 Jan"] == "appeal-3-wd" and got["Tue 05 Jan"] == ""


def test_family_reminder_over_easter_2026(england):
    # deadline Thu 9 Apr 2026: 3 WD before = Wed 8, Tue 7, (Easter Monday 6 Apr and Good Friday
    # 3 Apr skipped) Thu 2 Apr; two weeks before = Thu 26 Mar
    got = timeline(appeal(date(2026, 4, 9)), date(2026, 3, 25), date(2026, 4, 3), england)
    assert got == {
        "Wed 25 Mar": "",
        "Thu 26 Mar": "appeal-2-weeks",
        "Fri 27 Mar": "appeal-2-weeks",
        "Sat 28 Mar": "appeal-2-weeks",
        "Sun 29 Mar": "appeal-2-weeks",
        "Mon 30 Mar": "appeal-2-weeks",
        "Tue 31 Mar": "appeal-2-weeks",
        "Wed 01 Apr": "appeal-2-weeks",
        "Thu 02 Apr": "appeal-3-wd",
        "Fri 03 Apr": "appeal-3-wd",
    }


@pytest.mark.parametrize(
    "kw",
    [
        {"certificate_settled": False},  # no certificate yet: the certificate alerts come first
        {"appeal_lodged": True},
        {"state": "met"},
    ],
)
def test_no_family_reminder_without_a_certificate_or_after_an_appeal(england, kw):
    assert alerts_due([appeal(date(2026, 9, 1), **kw)], date(2026, 8, 26), england) == []


def test_a_late_first_run_sends_only_the_latest_reminder(england):
    got = alerts_due([appeal(date(2027, 1, 4))], date(2026, 12, 30), england)
    assert [a.kind for a in got] == ["appeal-3-wd"]


# --- keys, digest, delivery windows ---------------------------------------------------------------


def test_alert_key_names_case_clock_kind_target_and_audience(england):
    (alert,) = alerts_due([clock()], date(2025, 4, 24), england)
    assert alert_key(alert, "team") == "alert:DRS-2025-00001:certificate_due:due-today:2025-04-24:team"


def test_alerts_are_sorted_by_target_then_case(england):
    clocks = [clock(target=date(2025, 4, 24)), clock(name="mediation_by", target=date(2025, 4, 23), owner="la")]
    assert [a.clock for a in alerts_due(clocks, date(2025, 4, 22), england)] == ["mediation_by", "certificate_due"]


def test_digest_lists_the_next_five_working_days_and_missed_clocks_by_la(england):
    clocks = [
        clock(target=date(2025, 12, 31)),  # 5 WD ahead from Mon 22 Dec over Christmas: 23, 24, 29, 30, 31
        clock(name="mediation_by", target=date(2026, 1, 2), owner="la"),  # 6 WD: not yet
        WatchedClock(
            "DRS-2025-00002",
            "E08000003",
            "certificate_due",
            date(2025, 12, 19),
            date(2025, 12, 19),
            "missed",
            "adviser",
        ),
        appeal(date(2025, 12, 23)),  # family-owned: not in the team's digest
        clock(name="notice_by", target=date(2025, 12, 24), state="met"),
    ]
    rows = digest_rows(clocks, date(2025, 12, 22), england)
    assert [(r.la_code, r.case_ref, r.clock, r.state, r.working_days_left) for r in rows] == [
        ("E08000003", "DRS-2025-00002", "certificate_due", "missed", -1),
        ("E08000006", "DRS-2025-00001", "certificate_due", "open", 5),
    ]
    assert list(group_by(rows)) == ["E08000003", "E08000006"]


@pytest.mark.parametrize(
    "local, audience, expected",
    [
        # a working day in office hours: at once
        (datetime(2026, 3, 27, 10, 0, tzinfo=LONDON), "team", None),
        # early morning on a working day: 09:00 the same day
        (datetime(2026, 3, 27, 6, 30, tzinfo=LONDON), "team", datetime(2026, 3, 27, 9, 0, tzinfo=LONDON)),
        # the March DST weekend: Monday 09:00 BST (08:00 UTC)
        (datetime(2026, 3, 28, 7, 0, tzinfo=LONDON), "la", datetime(2026, 3, 30, 9, 0, tzinfo=LONDON)),
        # the October DST weekend, after hours on Friday: Monday 09:00 GMT
        (datetime(2026, 10, 23, 18, 0, tzinfo=LONDON), "team", datetime(2026, 10, 26, 9, 0, tzinfo=LONDON)),
        # Christmas Eve afternoon after closing: next working day is Tue 29 Dec 2026
        (datetime(2026, 12, 24, 17, 30, tzinfo=LONDON), "team", datetime(2026, 12, 29, 9, 0, tzinfo=LONDON)),
        # families: any day, outside quiet hours
        (datetime(2026, 3, 29, 6, 0, tzinfo=LONDON), "family", datetime(2026, 3, 29, 8, 0, tzinfo=LONDON)),
        (datetime(2026, 12, 25, 12, 0, tzinfo=LONDON), "family", None),
        (datetime(2026, 10, 24, 21, 0, tzinfo=LONDON), "family", datetime(2026, 10, 25, 8, 0, tzinfo=LONDON)),
    ],
)
def test_not_before_keeps_team_email_in_office_hours_and_family_email_out_of_quiet_hours(
    england, local, audience, expected
):
    got = not_before_for(audience, local, england)
    assert got == expected
    if expected is not None:
        assert got.utcoffset() == expected.utcoffset()


def test_dst_offsets_of_not_before_are_right(england):
    monday = not_before_for("team", datetime(2026, 3, 28, 7, 0, tzinfo=LONDON), england)
    assert monday.astimezone(ZoneInfo("UTC")).hour == 8  # BST
    monday = not_before_for("team", datetime(2026, 10, 24, 7, 0, tzinfo=LONDON), england)
    assert monday.astimezone(ZoneInfo("UTC")).hour == 9  # GMT


def test_horizon_covers_the_longest_lead_time():
    assert DEFAULT_POLICY.horizon_days >= 14
    assert AlertPolicy(digest_horizon_wd=20).horizon_days >= 28
    assert isinstance(Alert, type)
