"""The monthly report's figures from known rows: every headline figure, count and denominator."""

from __future__ import annotations

from datetime import date

import pytest

from models.domain.calendar import WorkingCalendar
from reports.monthly import (
    CaseRow,
    CertificateRow,
    ClaimRow,
    ClockRow,
    EventRow,
    LaInfo,
    ReportInput,
    SessionRow,
    build_report,
    clock_result,
    financial_year_start,
    headline_kpis,
    month_bounds,
    parse_month,
    previous_month,
)

CAL = WorkingCalendar(
    {
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 31),
        date(2026, 12, 25),
        date(2026, 12, 28),
    }
)
SAL, MAN = "E08000006", "E08000003"
D = date


def known_month() -> ReportInput:
    """November 2026: two LAs, six cases (one last month, one in the previous financial year)."""
    cases = (
        CaseRow("DRS-2026-00011", SAL, "mediation", "refuse_assessment", D(2026, 11, 2), "certificate-issued"),
        CaseRow("DRS-2026-00012", SAL, "mediation", "plan_contents", D(2026, 11, 5), "certificate-issued"),
        CaseRow("DRS-2026-00013", SAL, "drs", None, D(2026, 11, 10), "information-given"),
        CaseRow("DRS-2026-00004", SAL, "mediation", "refuse_plan", D(2026, 10, 5), "mediation-concluded"),
        CaseRow("DRS-2026-00021", MAN, "mediation", "refuse_assessment", D(2026, 11, 3), "certificate-issued"),
        CaseRow("DRS-2026-00001", MAN, "mediation", "cease_plan", D(2026, 3, 10), "certificate-issued"),
    )
    e = EventRow
    events = (
        e("DRS-2026-00011", SAL, "information-given", D(2026, 11, 3)),
        e("DRS-2026-00011", SAL, "mediation-declined", D(2026, 11, 4)),
        e("DRS-2026-00011", SAL, "certificate-issued", D(2026, 11, 9), "declined"),
        e("DRS-2026-00012", SAL, "mediation-requested", D(2026, 11, 6)),
        e("DRS-2026-00012", SAL, "la-received-request", D(2026, 11, 9)),
        e("DRS-2026-00012", SAL, "mediation-concluded", D(2026, 11, 20)),
        e("DRS-2026-00004", SAL, "mediation-requested", D(2026, 10, 6)),
        e("DRS-2026-00004", SAL, "la-received-request", D(2026, 10, 7)),
        e(
            "DRS-2026-00004",
            SAL,
            "mediation-concluded",
            D(2026, 11, 12),
            detail={"breach_reason": '=HYPERLINK("http://evil.example","LA officer unavailable")'},
        ),
        e("DRS-2026-00021", MAN, "mediation-requested", D(2026, 11, 4)),
        e("DRS-2026-00021", MAN, "la-received-request", D(2026, 11, 5)),
        e("DRS-2026-00021", MAN, "la-cannot-arrange", D(2026, 11, 23)),
        e("DRS-2026-00001", MAN, "mediation-declined", D(2026, 3, 12)),
    )
    certificates = (
        CertificateRow("DRS-2026-00011", SAL, "declined", D(2026, 11, 9), D(2026, 11, 4)),  # Wed+3WD = Mon 9: on time
        CertificateRow("DRS-2026-00012", SAL, "after-mediation", D(2026, 11, 30), D(2026, 11, 20)),  # due 25: late
        CertificateRow("DRS-2026-00021", MAN, "deemed", D(2026, 11, 26), D(2026, 11, 23)),  # due 26: on time
        CertificateRow("DRS-2026-00001", MAN, "declined", D(2026, 3, 13), D(2026, 3, 12)),  # last FY
    )
    sessions = (
        SessionRow("DRS-2026-00012", SAL, D(2026, 11, 20), "held", outcome="agreed", outcome_on=D(2026, 11, 20)),
        SessionRow(
            "DRS-2026-00004", SAL, D(2026, 11, 5), "cancelled", cancelled_by="family", cancelled_on=D(2026, 11, 2)
        ),
        SessionRow("DRS-2026-00004", SAL, D(2026, 11, 12), "held", outcome="partial", outcome_on=D(2026, 11, 12)),
        SessionRow(
            "DRS-2026-00021", MAN, D(2026, 11, 25), "cancelled", cancelled_by="la", cancelled_on=D(2026, 11, 20)
        ),
    )
    clocks = (
        ClockRow("DRS-2026-00012", SAL, "agreement_assess_notify", "la", D(2026, 11, 27), D(2026, 11, 27), "open"),
        ClockRow(
            "DRS-2026-00004", SAL, "agreement_other_do", "la", D(2026, 11, 26), D(2026, 11, 26), "met", D(2026, 11, 25)
        ),
        ClockRow(
            "DRS-2026-00011", SAL, "certificate_due", "adviser", D(2026, 11, 9), D(2026, 11, 9), "met", D(2026, 11, 9)
        ),
        ClockRow(
            "DRS-2026-00021", MAN, "acknowledge_by", "adviser", D(2026, 11, 4), D(2026, 11, 4), "met", D(2026, 11, 6)
        ),
        ClockRow(
            "DRS-2026-00013", SAL, "first_contact_by", "adviser", D(2026, 11, 12), D(2026, 11, 12), "not_applicable"
        ),
        ClockRow("DRS-2026-00021", MAN, "mediation_by", "la", D(2026, 12, 5), D(2026, 12, 4), "open"),
    )
    claims = (
        ClaimRow("DRS-2026-00004", SAL, D(2026, 11, 13), D(2026, 11, 12), "paid", 2250),
        ClaimRow("DRS-2026-00004", SAL, D(2026, 11, 14), D(2026, 11, 12), "pending", 1260),
        ClaimRow("DRS-2026-00021", MAN, D(2026, 10, 30), D(2026, 10, 20), "approved", 900),
    )
    return ReportInput(
        month="2026-11",
        las=(LaInfo(SAL, "Salford"), LaInfo(MAN, "Manchester")),
        cases=cases,
        events=events,
        certificates=certificates,
        sessions=sessions,
        clocks=clocks,
        claims=claims,
    )


#: (figure key, month count, month denominator, year-to-date count, year-to-date denominator)
EXPECTED_OVERALL = [
    ("referrals_total", 4, 4, 5, 5),
    ("referrals_mediation", 3, 4, 4, 5),
    ("referrals_drs", 1, 4, 1, 5),
    ("referrals_decision_refuse_assessment", 2, 3, 2, 4),
    ("referrals_decision_plan_contents", 1, 3, 1, 4),
    ("referrals_decision_refuse_plan", 0, 3, 1, 4),
    ("referrals_decision_cease_plan", 0, 3, 0, 4),
    ("decisions_total", 3, 3, 4, 4),
    ("decisions_chose_mediation", 2, 3, 3, 4),
    ("decisions_declined", 1, 3, 1, 4),
    ("certificates_total", 3, 3, 3, 3),
    ("certificates_declined", 1, 3, 1, 3),
    ("certificates_after-mediation", 1, 3, 1, 3),
    ("certificates_deemed", 1, 3, 1, 3),
    ("certificates_withdrawn", 0, 3, 0, 3),
    ("certificates_on_time", 2, 3, 2, 3),
    ("certificates_on_time_after-mediation", 0, 1, 0, 1),
    ("meetings_held", 2, 2, 2, 2),
    ("meetings_within_30_days", 1, 2, 1, 2),
    ("meetings_late_reason_recorded", 1, 1, 1, 1),
    ("outcomes_total", 2, 2, 2, 2),
    ("outcomes_agreed", 1, 2, 1, 2),
    ("outcomes_partial", 1, 2, 1, 2),
    ("outcomes_not_agreed", 0, 2, 0, 2),
    ("followups_met", 1, 2, 1, 2),
    ("sessions_cancelled", 2, 4, 2, 4),
    ("cancelled_by_family", 1, 2, 1, 2),
    ("cancelled_by_la", 1, 2, 1, 2),
    ("claims_total", 2, 2, 3, 3),
    ("claims_paid", 1, 2, 1, 3),
    ("claims_pending", 1, 2, 1, 3),
    ("claims_approved", 0, 2, 1, 3),
]


@pytest.mark.parametrize("key, month_n, month_d, ytd_n, ytd_d", EXPECTED_OVERALL)
def test_overall_figure_has_count_and_denominator(key, month_n, month_d, ytd_n, ytd_d):
    report = build_report(known_month(), CAL)
    month, ytd = report.scope.get(key), report.scope.get(key, "ytd")
    assert (month.count, month.denominator) == (month_n, month_d)
    assert (ytd.count, ytd.denominator) == (ytd_n, ytd_d)


def test_claim_amounts_are_totalled_in_pence_by_status():
    scope = build_report(known_month(), CAL).scope
    assert scope.get("claims_total").amount_pence == 3510
    assert scope.get("claims_paid").amount_pence == 2250
    assert scope.get("claims_total", "ytd").amount_pence == 4410
    assert scope.get("claims_approved", "ytd").amount_pence == 900


def test_each_la_gets_its_own_figures():
    report = build_report(known_month(), CAL)
    salford, manchester = report.by_la
    assert (salford.code, manchester.code) == (SAL, MAN)
    assert salford.get("referrals_total").count == 3
    assert manchester.get("referrals_total").count == 1
    assert salford.get("meetings_within_30_days").count == 1 and salford.get("meetings_within_30_days").denominator == 2
    assert manchester.get("certificates_on_time").count == 1 and manchester.get("certificates_on_time").denominator == 1
    assert manchester.get("sessions_cancelled").count == 1


def test_periods_are_month_and_financial_year_to_date():
    report = build_report(known_month(), CAL)
    assert (report.month_start, report.month_end, report.ytd_start) == (D(2026, 11, 1), D(2026, 11, 30), D(2026, 4, 1))
    assert financial_year_start(D(2027, 3, 31)) == D(2026, 4, 1)
    assert financial_year_start(D(2027, 4, 1)) == D(2027, 4, 1)
    assert month_bounds(D(2028, 2, 1)) == (D(2028, 2, 1), D(2028, 2, 29))
    assert previous_month(D(2026, 12, 1)) == "2026-11" and previous_month(D(2027, 1, 15)) == "2026-12"
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month("November")


def test_late_first_meeting_listed_with_its_breach_reason():
    report = build_report(known_month(), CAL)
    (late,) = report.late_meetings
    assert (late.ref, late.la_received_on, late.due, late.held_on, late.days_late) == (
        "DRS-2026-00004",
        D(2026, 10, 7),
        D(2026, 11, 6),
        D(2026, 11, 12),
        6,
    )
    assert late.reason.startswith("=HYPERLINK") and late.in_month


def test_clocks_due_in_the_month_with_working_days_late():
    lines = {(c.ref, c.name): (c.result, c.working_days_late) for c in build_report(known_month(), CAL).clock_lines}
    assert lines == {
        ("DRS-2026-00021", "acknowledge_by"): ("met late", 2),
        ("DRS-2026-00011", "certificate_due"): ("met", 0),
        ("DRS-2026-00013", "first_contact_by"): ("not applicable", None),
        ("DRS-2026-00004", "agreement_other_do"): ("met", 0),
        ("DRS-2026-00012", "agreement_assess_notify"): ("missed", 1),  # Fri 27 -> as at Mon 30 Nov
    }


def test_clock_result_over_a_bank_holiday():
    clock = ClockRow("R", SAL, "certificate_due", "adviser", D(2026, 12, 23), D(2026, 12, 23), "met", D(2026, 12, 29))
    assert clock_result(clock, D(2026, 12, 31), CAL) == ("met late", 2)  # 24th, 29th (25, 28 are holidays)
    open_clock = ClockRow("R", SAL, "x", "la", D(2026, 12, 31), D(2026, 12, 31), "open")
    assert clock_result(open_clock, D(2026, 12, 31), CAL) == ("open", None)


def test_certificate_trend_covers_twelve_months():
    trend = build_report(known_month(), CAL).scope.trend
    assert [p.month for p in trend][0] == "2025-12" and trend[-1].month == "2026-11" and len(trend) == 12
    march = next(p for p in trend if p.month == "2026-03")
    assert (march.issued, march.with_trigger, march.on_time) == (1, 1, 1)
    assert (trend[-1].issued, trend[-1].on_time) == (3, 2)


def test_case_list_holds_active_cases_by_reference():
    lines = {c.ref: c for c in build_report(known_month(), CAL).case_lines}
    assert sorted(lines) == ["DRS-2026-00004", "DRS-2026-00011", "DRS-2026-00012", "DRS-2026-00013", "DRS-2026-00021"]
    assert lines["DRS-2026-00012"].certificate_on_time is False
    assert lines["DRS-2026-00004"].meeting_within_30_days is False
    assert lines["DRS-2026-00011"].family_decision == "declined"


def test_single_la_input_holds_nothing_of_another_la():
    report = build_report(known_month().for_la(MAN), CAL)
    assert report.single_la and report.scope.name == "Manchester"
    refs = {c.ref for c in report.case_lines} | {c.ref for c in report.clock_lines}
    assert refs == {"DRS-2026-00021"}
    assert report.scope.get("referrals_total").count == 1
    assert report.scope.get("claims_total", "ytd").amount_pence == 900


def test_same_rows_give_the_same_report():
    assert build_report(known_month(), CAL) == build_report(known_month(), CAL)


def test_headline_kpis_are_plain_rows_per_scope():
    rows = headline_kpis(build_report(known_month(), CAL))
    assert [r["scope"] for r in rows] == ["All local authorities", "Salford", "Manchester"]
    assert rows[0]["certificates_on_time"] == "2/3 (67%)" and rows[0]["claims_total_gbp"] == "35.10"


def test_empty_month_gives_zero_counts_and_no_ratio():
    report = build_report(ReportInput(month="2026-11", las=(LaInfo(SAL, "Salford"),)), CAL)
    figure = report.scope.get("certificates_on_time")
    assert (figure.count, figure.denominator, figure.ratio) == (0, 0, None)


def test_family_appeal_deadline_passes_rather_than_being_missed():
    clock = ClockRow("R", SAL, "appeal_deadline", "family", D(2026, 11, 2), D(2026, 11, 2), "open")
    assert clock_result(clock, D(2026, 11, 30), CAL) == ("passed", None)
    assert clock_result(clock, D(2026, 11, 2), CAL) == ("open", None)
    lodged = ClockRow("R", SAL, "appeal_deadline", "family", D(2026, 11, 2), D(2026, 11, 2), "met")
    assert clock_result(lodged, D(2026, 11, 30), CAL) == ("met", 0)
