"""Acceptance-audit cases for the monthly figures: a DRS meeting is not a mediation meeting."""

from __future__ import annotations

from datetime import date as D

from models.domain.calendar import WorkingCalendar
from reports.monthly import CaseRow, EventRow, LaInfo, ReportInput, SessionRow, build_report

SAL = "E08000006"


def test_drs_meetings_are_not_counted_as_mediation_meetings_or_against_30_days():
    cases = (
        CaseRow("DRS-2026-00001", SAL, "mediation", "refuse_assessment", D(2026, 10, 1), "mediation-concluded"),
        CaseRow("DRS-2026-00002", SAL, "drs", None, D(2026, 10, 1), "closed"),
    )
    events = tuple(
        EventRow(ref, SAL, "la-received-request", D(2026, 10, 5)) for ref in ("DRS-2026-00001", "DRS-2026-00002")
    )
    sessions = (
        SessionRow("DRS-2026-00001", SAL, D(2026, 11, 2), "held", outcome="agreed", outcome_on=D(2026, 11, 2)),
        # a DRS meeting held late: no 30-day duty applies to it
        SessionRow("DRS-2026-00002", SAL, D(2026, 11, 20), "held", outcome="agreed", outcome_on=D(2026, 11, 20)),
    )
    report = build_report(
        ReportInput("2026-11", (LaInfo(SAL, "Salford"),), cases, events, (), sessions), WorkingCalendar(set())
    )
    held, within = report.scope.get("meetings_held"), report.scope.get("meetings_within_30_days")
    assert (held.count, held.denominator) == (1, 1)
    assert (within.count, within.denominator) == (1, 1)
    assert report.late_meetings == ()
    lines = {line.ref: line for line in report.case_lines}
    assert lines["DRS-2026-00002"].meeting_within_30_days is None
