"""Plain words for clock names, defined once, for everything people read.

The clock names (``certificate_due``, ``agreement_issue-plan_final``, …) are codes: JSON keys,
database values and what the team's tools filter on; they never change. People read
:func:`clock_label` ("LA to issue the final plan (agreed at mediation)"), and the team's
screens and emails show :func:`clock_title`, the words with the code in brackets:
"LA to issue the final plan (agreed at mediation) [agreement_issue-plan_final]".

:func:`clock_names` lists every name :func:`~models.domain.clocks.compute_clocks` can emit under
the given rule sets (the agreement follow-ups come from each rule set's ``agreement_weeks``); a
unit test walks them and the engine's output to keep every one labelled. The rules behind each
clock are summarised in ``docs/rules.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from models.domain.rules import RULESETS, RuleSet

__all__ = ["CLOCK_LABELS", "clock_label", "clock_names", "clock_title", "state_words"]

#: The clocks every rule set has (docs/rules.md §2-§4), in the order a case meets them.
_FIXED = {
    "acknowledge_by": "Acknowledge the referral",
    "first_contact_by": "First contact with the family (mediation information)",
    "contact_adviser_by": "Family to contact the mediation adviser (2 months from the decision letter)",
    "la_informed_by": "Pass the family's mediation request to the LA",
    "icb_notify_by": "LA to tell the ICB of a request that includes health care",
    "mediation_by": "LA to arrange mediation, held within 30 days of receiving the request",
    "notice_by": "Notice of the mediation meeting to everyone taking part",
    "certificate_due": "Issue the mediation certificate",
    "appeal_deadline": "Family's last day to appeal to the tribunal",
    "agreement_health_notify": "ICB to tell the LA of a health-only agreement (agreed at mediation)",
}

#: Agreement follow-ups ``agreement_<item>_<step>`` (reg 42 with the reg 44 limits).
_AGREEMENT = {
    ("assess", "notify"): "LA to confirm it will carry out the EHC needs assessment",
    ("assess", "decide"): "LA to decide whether to issue an EHC plan after the assessment",
    ("assess", "final"): "LA to issue the final plan after the assessment",
    ("reassess", "notify"): "LA to confirm it will carry out the re-assessment",
    ("reassess", "decide"): "LA to decide whether to issue an EHC plan after the re-assessment",
    ("reassess", "final"): "LA to issue the final plan after the re-assessment",
    ("issue-plan", "draft"): "LA to issue the draft plan",
    ("issue-plan", "final"): "LA to issue the final plan",
    ("amend-plan", "amend"): "LA to amend the plan",
    ("continue-plan", "continue"): "LA to continue the plan",
    ("other", "do"): "LA to do what was agreed",
}

#: Every label by clock name.
CLOCK_LABELS: dict[str, str] = _FIXED | {
    f"agreement_{item}_{step}": f"{words} (agreed at mediation)" for (item, step), words in _AGREEMENT.items()
}


def clock_names(rules: Sequence[RuleSet] = RULESETS) -> tuple[str, ...]:
    """Every clock name ``compute_clocks`` can emit under ``rules``: the fixed clocks and one
    ``agreement_<item>_<step>`` per step of each rule set's ``agreement_weeks``."""
    agreement = {
        f"agreement_{item}_{step}" for rs in rules for item, steps in rs.agreement_weeks.items() for step in steps
    }
    return tuple(_FIXED) + tuple(sorted(agreement))


def clock_label(name: str) -> str:
    """Plain words for the clock ``name``. A name no rule set knows (never emitted today) falls
    back to a readable form of the code rather than failing an email."""
    if name in CLOCK_LABELS:
        return CLOCK_LABELS[name]
    if name.startswith("agreement_") and name.count("_") >= 2:
        _, item, step = name.split("_", 2)
        return f"LA to {step} for '{item}' (agreed at mediation)"
    return name.replace("_", " ").capitalize()


def clock_title(name: str) -> str:
    """The label with the code in brackets, for the team: "Issue the mediation certificate
    [certificate_due]"."""
    return f"{clock_label(name)} [{name}]"


def state_words(state: str, met_on: date | None = None, late_wd: int | None = None) -> str:
    """A clock's state in words: "open", "missed", "not applicable", "met on time (2026-11-26)",
    "met 1 working day late (2026-11-27)"; "met" alone when no date was recorded."""
    if state != "met":
        return state.replace("_", " ")
    if met_on is None or late_wd is None:
        return "met"
    if late_wd == 0:
        return f"met on time ({met_on.isoformat()})"
    return f"met {late_wd} working day{'s' if late_wd != 1 else ''} late ({met_on.isoformat()})"
