"""Per-case facts the figures share, derived once from a report's rows, and how a clock went."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from models.domain.calendar import WorkingCalendar
from models.domain.rules import ruleset_for
from reports.monthly.rows import CertificateRow, ClockRow, EventRow, ReportInput

BREACH_REASON_KEYS = ("breach_reason", "reason")  # keys looked up in a case event's `detail`
_CERT_PERIOD = {
    "declined": "certificate_declined_wd",
    "withdrawn": "certificate_withdrawn_wd",
    "deemed": "certificate_deemed_wd",
    "after-mediation": "certificate_after_mediation_wd",
}
_DECISIONS = {"mediation-requested": "chose mediation", "mediation-declined": "declined"}
#: the event types whose rows the per-case facts read (decisions, meetings held, the LA's receipt
#: of a request) and that certificates are built from (`certificate-issued` and its triggers). A
#: case's event of another type counts for two things only: being in the month (an active case)
#: and its `detail` (a breach reason) — the loader reads those by date and by detail.
EVENTS_READ = frozenset(
    {
        *_DECISIONS,
        "mediation-concluded",
        "la-received-request",
        "icb-received-request",
        "certificate-issued",
        "withdrawn",
        "la-cannot-arrange",
    }
)


class CaseFacts:
    """Per-case facts derived once from the rows: each case's first decision, first meeting held,
    whether its certificate and first meeting were on time, and its breach reason."""

    def __init__(self, data: ReportInput, calendar: WorkingCalendar) -> None:
        self.cal = calendar
        events: dict[str, list[EventRow]] = defaultdict(list)
        for e in sorted(data.events, key=lambda e: (e.on, e.event)):
            events[e.ref].append(e)
        self.events = events
        self.decision: dict[str, tuple[str, date]] = {}
        for ref, evs in events.items():
            first = next((e for e in evs if e.event in _DECISIONS), None)
            if first is not None:
                self.decision[ref] = (_DECISIONS[first.event], first.on)
        self.mediation_refs = {c.ref for c in data.cases if c.service == "mediation"}
        self.first_held, self.held_fallback = self._first_meetings(data)

    def _first_meetings(self, data: ReportInput) -> tuple[dict[str, date], dict[str, date]]:
        """The first meeting held per *mediation* case (a DRS meeting is not a mediation and has no
        30-day duty): held sessions; a case with no session rows at all falls back to its first
        `mediation-concluded` event (the second dict: those fallbacks)."""
        with_sessions = {s.ref for s in data.sessions}
        held: dict[str, date] = {}
        for s in data.sessions:
            if s.ref in self.mediation_refs and s.status == "held" and (s.ref not in held or s.on < held[s.ref]):
                held[s.ref] = s.on
        fallback: dict[str, date] = {}
        for ref, evs in self.events.items():
            if ref not in with_sessions and ref in self.mediation_refs:
                concluded = next((e.on for e in evs if e.event == "mediation-concluded"), None)
                if concluded is not None:
                    held[ref] = concluded
                    fallback[ref] = concluded
        return held, fallback

    def certificate_due(self, cert: CertificateRow) -> date | None:
        if cert.trigger_on is None or cert.type not in _CERT_PERIOD:
            return None
        rules = ruleset_for(cert.trigger_on)
        return self.cal.add_working_days(cert.trigger_on, getattr(rules, _CERT_PERIOD[cert.type]))

    def certificate_on_time(self, cert: CertificateRow) -> bool | None:
        due = self.certificate_due(cert)
        return None if due is None else cert.issued_on <= due

    def meeting_check(self, ref: str) -> tuple[date, date, int] | None:
        """(LA received on, due, days late (<= 0 on time)) for the case's first held meeting."""
        held = self.first_held.get(ref)
        if held is None:
            return None
        evs = self.events.get(ref, [])
        starts = [e for e in evs if e.event == "la-received-request" and e.on <= held]
        if not starts:
            starts = [e for e in evs if e.event == "icb-received-request" and e.on <= held]
        if not starts:
            return None
        start = starts[-1].on
        due = start + timedelta(days=ruleset_for(start).mediation_within_days)
        return start, due, (held - due).days

    def breach_reason(self, ref: str) -> str | None:
        for e in reversed(self.events.get(ref, [])):
            for key in BREACH_REASON_KEYS:
                value = (e.detail or {}).get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
        return None


def clock_result(clock: ClockRow, as_of: date, calendar: WorkingCalendar) -> tuple[str, int | None]:
    """How `clock` went, judged at `as_of` (the month's end): (result, working days late).

    met on or before `due` -> ("met", 0); met after -> ("met late", WD from due to met_on);
    not met and `as_of` after its target (or stored missed) -> ("missed", WD from due to `as_of`);
    else ("open", None); state not_applicable -> ("not applicable", None). The family's
    `appeal_deadline` is nobody's failure: not met (no appeal recorded) and past is ("passed", None).
    """
    if clock.state == "not_applicable":
        return "not applicable", None
    if clock.name == "appeal_deadline" and clock.met_on is None and clock.state != "met":
        return ("passed", None) if as_of > clock.target else ("open", None)
    if clock.met_on is not None:
        if clock.met_on <= clock.due:
            return "met", 0
        return "met late", calendar.working_days_between(clock.due, clock.met_on)
    if clock.state == "met":  # met without a date (e.g. the appeal was lodged)
        return "met", 0
    if clock.state == "missed" or as_of > clock.target:
        return "missed", max(calendar.working_days_between(clock.due, max(as_of, clock.due)), 0)
    return "open", None
