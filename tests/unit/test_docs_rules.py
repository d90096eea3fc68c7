"""docs/rules.md — the rules a clone carries — names every clock the engine emits, with the level
of the rule set in force."""

from __future__ import annotations

import re
from pathlib import Path

from models.domain.clock_labels import CLOCK_LABELS, clock_names
from models.domain.rules import RULESETS

RULES = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")


def _row(first_cell: str) -> str:
    [row] = [line for line in RULES.splitlines() if line.startswith(f"| {first_cell} |")]
    return row


def test_every_fixed_clock_is_in_the_rules_page_with_its_plain_words():
    for name in clock_names():
        if name.startswith("agreement_") and name != "agreement_health_notify":
            continue
        rows = [line for line in RULES.splitlines() if line.startswith(f"| `{name}`")]
        assert rows, name
        assert any(f"| {CLOCK_LABELS[name]} |" in row for row in rows), name


def test_every_agreement_item_lists_its_steps_weeks_and_level():
    rs = RULESETS[-1]
    for item, steps in rs.agreement_weeks.items():
        row = _row(f"`{item}`")
        for step, weeks in steps.items():
            assert re.search(rf"`{re.escape(step)}` {weeks}\b", row), (item, step)
        assert rs.level(f"agreement_{item}") in row, item


def test_levels_match_the_rule_set():
    rs = RULESETS[-1]
    for clock, rule in (
        ("`contact_adviser_by`", "contact_adviser"),
        ("`icb_notify_by`", "icb_notify"),
        ("`notice_by`", "notice"),
        ("`appeal_deadline`", "appeal"),
        ("`agreement_health_notify`", "agreement_health"),
    ):
        assert rs.level(rule) in _row(clock), clock
    for variant, rule in (
        ("declined", "certificate_declined"),
        ("withdrawn", "certificate_withdrawn"),
        ("deemed", "certificate_deemed"),
        ("after mediation", "certificate_after_mediation"),
    ):
        assert rs.level(rule) in _row(f"`certificate_due` ({variant})"), variant
    assert rs.level("mediation_within") in _row("`mediation_by`")
    for rule in ("acknowledge", "first_contact", "la_informed"):
        assert rs.level(rule) == "SERVICE"
    assert "## §4 Service standards — SERVICE" in RULES
