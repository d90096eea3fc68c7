"""The periods of the SEND deadlines, as versioned configuration.

Every period the clock engine uses lives in a :class:`RuleSet` with an ``effective_from``
date, never as a literal in the engine: the law is under review (2026 SEND White Paper), and
when it changes a new ``RuleSet`` is appended to :data:`RULESETS`; clocks whose trigger falls
on or after its ``effective_from`` then use it (:func:`ruleset_for`).

Each rule carries its level from ``docs/rules.md``: **VERIFIED** (seen in the
primary text), **SECONDARY** (reputable guidance, not yet read in the regulation),
**UNVERIFIED** (sources silent or in conflict), or **SERVICE** (a service standard from the
provider's contract, not law; overridable per local authority with :func:`with_overrides`).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

__all__ = [
    "CURRENT_RULES_VERSION",
    "RULESETS",
    "SERVICE_STANDARDS",
    "Citation",
    "RuleSet",
    "ruleset_for",
    "with_overrides",
]

VERIFIED = "VERIFIED"
SECONDARY = "SECONDARY"
UNVERIFIED = "UNVERIFIED"
SERVICE = "SERVICE"


@dataclass(frozen=True)
class Citation:
    """Where a rule comes from and how sure we are of it."""

    level: str  # VERIFIED | SECONDARY | UNVERIFIED | SERVICE
    source: str  # e.g. "reg 34; CFA s.55(4)"


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType({k: _frozen(v) if isinstance(v, Mapping) else v for k, v in mapping.items()})


# Agreement follow-ups: item -> step -> weeks after the written mediation agreement
# (reg 42(2) applies the reg 44 limits "as if the agreement were a Tribunal order").
_AGREEMENT_WEEKS = {
    "assess": {"notify": 2, "decide": 10, "final": 14},
    "reassess": {"notify": 2, "decide": 10, "final": 14},
    "issue-plan": {"draft": 5, "final": 11},
    "amend-plan": {"amend": 5},
    "continue-plan": {"continue": 0},
    "other": {"do": 2},
}

# Keys of the citations mapping: one per rule the engine applies.
_CITATIONS = {
    "contact_adviser": Citation(VERIFIED, "reg 33"),
    "certificate_declined": Citation(SECONDARY, "reg 34; CFA s.55(4)"),
    "certificate_withdrawn": Citation(UNVERIFIED, "reg 34 heading (3 WD by analogy)"),
    "icb_notify": Citation(SECONDARY, "CFA s.53; reg 35"),
    "mediation_within": Citation(
        SECONDARY,
        "CFA ss.53-54; regs 35-36 (held or arranged by then: UNVERIFIED; alert against held)",
    ),
    "certificate_deemed": Citation(SECONDARY, "regs 36-37 area"),
    "notice": Citation(VERIFIED, "reg 37; Code of Practice ch.11 (VERIFIED wording)"),
    "certificate_after_mediation": Citation(SECONDARY, "CFA s.55(5); reg 39"),
    "appeal": Citation(VERIFIED, "HESC rules 20 and 12 (by 5pm: UNVERIFIED)"),
    "agreement_assess": Citation(VERIFIED, "reg 42(2); reg 44(2)(a)-(c)"),
    "agreement_reassess": Citation(SECONDARY, "reg 42(2); reg 44 (re-assessment read as the (2)(a)-(c) limits)"),
    "agreement_issue-plan": Citation(SECONDARY, "reg 42(2); reg 44(2), limb beyond (c)"),
    "agreement_amend-plan": Citation(SECONDARY, "reg 42(2); reg 44(2), limb beyond (c)"),
    "agreement_continue-plan": Citation(SECONDARY, "reg 42(2); reg 44(2), limb beyond (c)"),
    "agreement_other": Citation(VERIFIED, "reg 42(3)"),
    "agreement_health": Citation(VERIFIED, "reg 42(4)"),
    "acknowledge": Citation(SERVICE, "service standard (contract)"),
    "first_contact": Citation(SERVICE, "service standard (contract)"),
    "la_informed": Citation(SERVICE, "service standard (contract)"),
    "drs_meeting_offered": Citation(SERVICE, "service standard (contract)"),
}

#: The fields a local authority's contract may override (docs/rules.md §4).
SERVICE_STANDARDS: frozenset[str] = frozenset(
    {"acknowledge_wd", "first_contact_wd", "la_informed_wd", "drs_meeting_offered_wd"}
)


@dataclass(frozen=True)
class RuleSet:
    """All periods of the deadline engine in force from ``effective_from``.

    Units are in each field's suffix: ``_wd`` working days, ``_days`` calendar days,
    ``_months`` calendar months, weeks in ``agreement_weeks`` / ``icb_health_agreement_weeks``.
    ``citations`` maps each rule to its :class:`Citation` (level and source).
    Mappings are read-only; instances are hashable (mappings are left out of the hash).
    """

    version: str
    effective_from: date
    # Statutory periods (docs/rules.md §2-§3)
    contact_adviser_months: int = 2
    certificate_declined_wd: int = 3
    certificate_withdrawn_wd: int = 3
    icb_notify_wd: int = 3
    mediation_within_days: int = 30
    certificate_deemed_wd: int = 3
    notice_wd: int = 5
    certificate_after_mediation_wd: int = 3
    appeal_months_after_letter: int = 2
    appeal_months_after_certificate: int = 1
    # HESC r.12 windows, as ((month, day) start, (month, day) end), inclusive; a deadline
    # falling inside one moves to the first working day after its end.
    appeal_christmas_window: tuple[tuple[int, int], tuple[int, int]] = ((12, 25), (1, 1))
    appeal_august_window: tuple[tuple[int, int], tuple[int, int]] = ((8, 1), (8, 31))
    agreement_weeks: Mapping[str, Mapping[str, int]] = field(
        default_factory=lambda: _frozen(_AGREEMENT_WEEKS), hash=False
    )
    icb_health_agreement_weeks: int = 1
    # Service standards (docs/rules.md §4; contract, not law; per-LA overridable)
    acknowledge_wd: int = 1
    first_contact_wd: int = 2
    la_informed_wd: int = 1
    drs_meeting_offered_wd: int = 20
    citations: Mapping[str, Citation] = field(default_factory=lambda: _frozen(_CITATIONS), hash=False)

    def level(self, rule: str) -> str:
        """Return the level of ``rule`` (a ``citations`` key); ``KeyError`` if unknown."""
        return self.citations[rule].level

    def source(self, rule: str) -> str:
        """Return the citation text of ``rule``; ``KeyError`` if unknown."""
        return self.citations[rule].source


#: Every rule set ever in force, oldest first. Append; never edit one already used.
RULESETS: tuple[RuleSet, ...] = (RuleSet(version="2014-09-01.1", effective_from=date(2014, 9, 1)),)


def _canonical(value: object) -> object:
    if isinstance(value, Mapping):
        return sorted((k, _canonical(v)) for k, v in value.items())
    if dataclasses.is_dataclass(value):
        return [(f.name, _canonical(getattr(value, f.name))) for f in dataclasses.fields(value)]
    return value


def _fingerprint(rulesets: Sequence[RuleSet]) -> str:
    text = repr([_canonical(r) for r in rulesets])
    return hashlib.sha256(text.encode()).hexdigest()[:8]


#: Changes whenever any RuleSet changes (its version, or any value even if the version was
#: not bumped): store it beside computed clocks and recompute them when it differs.
CURRENT_RULES_VERSION: str = "+".join(r.version for r in RULESETS) + "#" + _fingerprint(RULESETS)


def ruleset_for(on: date, rulesets: Sequence[RuleSet] = RULESETS) -> RuleSet:
    """Return the rule set in force on ``on``: the latest with ``effective_from <= on``.

    ``rulesets`` need not be sorted. Raises ``ValueError`` when none was in force then
    (before 1 September 2014 the CFA 2014 regime did not exist).
    """
    in_force = [r for r in rulesets if r.effective_from <= on]
    if not in_force:
        raise ValueError(f"no SEND rule set in force on {on.isoformat()}")
    return max(in_force, key=lambda r: r.effective_from)


def with_overrides(rules: RuleSet, overrides: Mapping[str, int] | None) -> RuleSet:
    """Return ``rules`` with a local authority's service standards replaced.

    Only the §4 service standards (:data:`SERVICE_STANDARDS`) may be overridden: statutory
    periods are the same for every authority. Raises ``ValueError`` naming the key for an
    unknown or statutory key, or a value that is not a non-negative whole number of days.
    ``None`` or an empty mapping returns ``rules`` itself.
    """
    if not overrides:
        return rules
    changes: dict[str, Any] = {}  # `replace` takes each field by name
    for key, value in overrides.items():
        if key not in SERVICE_STANDARDS:
            raise ValueError(
                f"{key!r} is not an overridable service standard (allowed: {', '.join(sorted(SERVICE_STANDARDS))})"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{key!r} must be a whole number of working days >= 0, got {value!r}")
        changes[key] = value
    return dataclasses.replace(rules, **changes)
