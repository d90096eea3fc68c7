"""The monthly report's KPIs: each defined once — its name and definition as the workbook's cover
sheet shows them, its section of the summary, and the computation of its figures, together.

`KPIS` is the table, in the summary's order; `DEFINITIONS` (the cover sheet) is the notes on
periods and denominators, then each KPI's definition, then the notes on the clocks and on
personal data. A new figure is a new `@kpi` function here and an entry in `KPIS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from models.domain.vocabulary import CERTIFICATE_TYPES, DECISION_TYPES, OUTCOMES
from reports.monthly.facts import clock_result
from reports.monthly.kpi import Kpi, Measure, Period, kpi

CLAIM_STATUSES = ("pending", "approved", "query", "held", "rejected", "sent", "paid")
CANCELLED_BY = ("family", "la", "icb", "service", "unknown")
_OUTCOME_LABELS = {"agreed": "Agreed", "partial": "Partial agreement", "not-agreed": "Not agreed"}
_CANCELLED_BY_LABELS = {
    "family": "by the family",
    "la": "by the LA",
    "icb": "by the ICB",
    "service": "by the service",
    "unknown": "by: not recorded",
}


@kpi(
    "Referrals received",
    "Cases whose referral was received in the period, by service (mediation, DRS); "
    "the decision types are out of the mediation referrals.",
)
def referrals(p: Period) -> Iterator[Measure]:
    received = [c for c in p.data.cases if p.holds(c.received_on)]
    mediation = [c for c in received if c.service == "mediation"]
    yield Measure("referrals_total", "Referrals received", len(received), len(received))
    yield Measure("referrals_mediation", "Mediation referrals", len(mediation), len(received))
    drs = sum(c.service == "drs" for c in received)
    yield Measure("referrals_drs", "Disagreement resolution (DRS) referrals", drs, len(received))
    by_type = Counter(c.decision_type for c in mediation)
    for code in DECISION_TYPES:
        label = f"Mediation: decision {code.replace('_', ' ')}"
        yield Measure(f"referrals_decision_{code}", label, by_type.get(code, 0), len(mediation))
    unknown = sum(n for k, n in by_type.items() if k not in DECISION_TYPES)
    yield Measure("referrals_decision_unknown", "Mediation: decision type not recorded", unknown, len(mediation))


@kpi(
    "Family decisions",
    "Mediation cases whose family first told us in the period whether they want mediation: "
    "chose mediation (asked for it) or declined, out of all families who decided.",
)
def decisions(p: Period) -> Iterator[Measure]:
    mediation_refs = p.facts.mediation_refs
    decided = [d for ref, d in p.facts.decision.items() if ref in mediation_refs and p.holds(d[1])]
    chose = sum(d[0] == "chose mediation" for d in decided)
    yield Measure("decisions_total", "Families who decided", len(decided), len(decided))
    yield Measure("decisions_chose_mediation", "Chose mediation", chose, len(decided))
    yield Measure("decisions_declined", "Declined mediation", len(decided) - chose, len(decided))


@kpi(
    "Certificates issued",
    "Mediation certificates issued in the period, by type. 'Within 3 working days' counts "
    "certificates issued no later than the statutory period (3 working days, bank holidays "
    "excluded, the trigger day not counted) after their trigger (declined, withdrawn, LA "
    "cannot arrange, mediation concluded), out of the certificates whose trigger date is known.",
    section="Certificates",
)
def certificates(p: Period) -> Iterator[Measure]:
    certs = [c for c in p.data.certificates if p.holds(c.issued_on)]
    on_time = [p.facts.certificate_on_time(c) for c in certs]
    yield Measure("certificates_total", "Certificates issued", len(certs), len(certs))
    for kind in CERTIFICATE_TYPES:
        yield Measure(
            f"certificates_{kind}", f"Certificates issued: {kind}", sum(c.type == kind for c in certs), len(certs)
        )
    known = [t for t in on_time if t is not None]
    yield Measure("certificates_on_time", "Issued within 3 working days of the trigger", sum(known), len(known))
    for kind in CERTIFICATE_TYPES:
        these = [t for c, t in zip(certs, on_time) if c.type == kind and t is not None]
        yield Measure(f"certificates_on_time_{kind}", f"{kind}: within 3 working days", sum(these), len(these))


@kpi(
    "Mediation meetings held",
    "Mediation meetings held in the period (meetings of DRS cases are not mediations "
    "and are not counted here). 'Within 30 days' takes each case's first meeting held in "
    "the period and checks it was held no later than 30 calendar days after the LA (or ICB) "
    "received the family's request; the denominator is the first meetings with a known "
    "receipt date. Late first meetings are listed with the breach reason recorded on the case.",
    section="Mediation meetings",
)
def meetings(p: Period) -> Iterator[Measure]:
    facts = p.facts
    held = sum(s.status == "held" and s.ref in facts.mediation_refs and p.holds(s.on) for s in p.data.sessions)
    held += sum(p.holds(d) for d in facts.held_fallback.values())
    yield Measure("meetings_held", "Mediation meetings held", held, held)
    firsts = sorted(ref for ref, d in facts.first_held.items() if p.holds(d))
    checks = {ref: c for ref in firsts if (c := facts.meeting_check(ref)) is not None}
    late = [ref for ref, c in checks.items() if c[2] > 0]
    on_time = sum(c[2] <= 0 for c in checks.values())
    label = "First meetings held within 30 days of the LA receiving the request"
    yield Measure("meetings_within_30_days", label, on_time, len(checks))
    reasons = sum(facts.breach_reason(ref) is not None for ref in late)
    yield Measure(
        "meetings_late_reason_recorded", "Late first meetings with a breach reason recorded", reasons, len(late)
    )


@kpi("Outcomes", "Meetings whose outcome was recorded in the period: agreed, partial agreement, not agreed.")
def outcomes(p: Period) -> Iterator[Measure]:
    recorded = [s for s in p.data.sessions if s.outcome and p.holds(s.outcome_on)]
    yield Measure("outcomes_total", "Meetings with an outcome recorded", len(recorded), len(recorded))
    for code in OUTCOMES:
        count = sum(s.outcome == code for s in recorded)
        yield Measure(f"outcomes_{code.replace('-', '_')}", _OUTCOME_LABELS.get(code, code), count, len(recorded))


@kpi(
    "Agreement follow-ups",
    "Follow-up deadlines from written mediation agreements (reg 42 and 44) due in the "
    "period and met on time, out of those due (not-applicable ones left out).",
)
def follow_ups(p: Period) -> Iterator[Measure]:
    due = [c for c in p.data.clocks if c.name.startswith("agreement_") and p.holds(c.due)]
    results = [r for r in (clock_result(c, p.end, p.facts.cal)[0] for c in due) if r != "not applicable"]
    yield Measure("followups_met", "Agreement follow-ups due and met on time", results.count("met"), len(results))


@kpi(
    "Sessions cancelled",
    "Meetings that were due to take place in the period and were cancelled, out of all "
    "meetings due in the period that were held or cancelled; then by who cancelled.",
)
def cancellations(p: Period) -> Iterator[Measure]:
    due = [s for s in p.data.sessions if s.status in ("held", "cancelled") and p.holds(s.on)]
    cancelled = [s for s in due if s.status == "cancelled"]
    yield Measure("sessions_cancelled", "Meetings cancelled", len(cancelled), len(due))
    who = Counter(s.cancelled_by if s.cancelled_by in CANCELLED_BY else "unknown" for s in cancelled)
    for code in CANCELLED_BY:
        label = f"Cancelled {_CANCELLED_BY_LABELS[code]}"
        yield Measure(f"cancelled_by_{code}", label, who.get(code, 0), len(cancelled))


@kpi(
    "Expense claims",
    "Claim lines received (imported) in the period, by their status today, with the amounts; "
    "out of all claim lines received in the period.",
)
def claims(p: Period) -> Iterator[Measure]:
    received = [c for c in p.data.claims if p.holds(c.received_on)]
    total = sum(c.amount_pence for c in received)
    yield Measure("claims_total", "Claim lines received", len(received), len(received), total)
    statuses = list(CLAIM_STATUSES) + sorted({c.status for c in received} - set(CLAIM_STATUSES))
    for status in statuses:
        these = [c for c in received if c.status == status]
        amount = sum(c.amount_pence for c in these)
        yield Measure(f"claims_{status}", f"Claims {status}", len(these), len(received), amount)


#: every KPI of the report, in the order of the summary and of the cover sheet
KPIS: tuple[Kpi, ...] = (referrals, decisions, certificates, meetings, outcomes, follow_ups, cancellations, claims)

#: the cover sheet's notes before the KPIs' definitions (how to read every figure) ...
NOTES_BEFORE: tuple[tuple[str, str], ...] = (
    (
        "Periods",
        "Month: the calendar month, first to last day. Year to date: the UK financial year from "
        "1 April to the month's last day. All dates are UK local dates.",
    ),
    (
        "Count and denominator",
        "Every figure is a count out of a denominator, and the percentage is count ÷ "
        "denominator. A total is shown as its own denominator (100%). A blank "
        "percentage means the denominator is 0.",
    ),
)
#: ... and after them (the clocks sheet, personal data)
NOTES_AFTER: tuple[tuple[str, str], ...] = (
    (
        "Clocks",
        "Every deadline due in the month: met (on or before the due date), met late, missed (not met, "
        "as at the month's end) or open, and by how many working days it was late. The family's appeal "
        "deadline shows 'passed' when no appeal was recorded by then: it is not a failure of the service or the LA.",
    ),
    (
        "Personal data",
        "None: cases appear by reference only. Figures use no personal details, so they stay the "
        "same after personal data is anonymised.",
    ),
)
#: the cover sheet: (name, how it is defined), every KPI's from `KPIS`
DEFINITIONS: tuple[tuple[str, str], ...] = (
    *NOTES_BEFORE,
    *((k.name, k.definition) for k in KPIS),
    *NOTES_AFTER,
)
