"""The service's own words: codes the contract and the law use (README.md, docs/rules.md §2)."""

from __future__ import annotations

SERVICES = ("mediation", "drs")
DECISION_TYPES = (
    "refuse_assessment",
    "refuse_plan",
    "plan_contents",
    "refuse_reassessment",
    "refuse_amend",
    "cease_plan",
)
SECTIONS = ("B", "F", "I")
WANTS_MEDIATION = ("yes", "no", "undecided")
REQUESTER_ROLES = ("parent", "carer", "young_person", "professional", "other")
EVENTS = (
    "information-given",
    "mediation-declined",
    "mediation-requested",
    "la-received-request",
    "icb-received-request",
    "la-cannot-arrange",
    "mediation-concluded",
    "withdrawn",
    "certificate-issued",
    "agreement-reached",
    "agreement-step-done",
    "closed",
)
#: `agreement-step-done` is ours, not the contract's: the LA did the next step of an agreed item
#: (e.g. `assess`: notify, then decide, then final), which meets that follow-up clock.
CERTIFICATE_TYPES = ("declined", "withdrawn", "deemed", "after-mediation")
AGREEMENT_ITEMS = ("assess", "issue-plan", "amend-plan", "reassess", "continue-plan", "other")
OUTCOMES = ("agreed", "partial", "not-agreed")
CASE_STATUSES = (
    "new",
    "information-given",
    "mediation-requested",
    "mediation-arranged",
    "certificate-pending",
    "certificate-issued",
    "mediation-concluded",
    "withdrawn",
    "closed",
)
CLAIM_CATEGORIES = ("mileage", "public_transport", "parking", "childcare", "dependant_care", "meal", "other")
CLOCK_STATES = ("open", "met", "missed", "not_applicable")
