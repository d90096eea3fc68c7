"""The `expense-routing` job, one orchestrator for both ways of running it (issue 13).

    summary = run(today, now, step=call)                  # `drs claims route` with no Prefect server
    summary = run(today, now, step=as_task, decide=...)   # the `expense-routing` flow

Steps, in order, each called through `step`: import the claim files waiting in
`$DRS_HOME/inbox/claims/` (`tasks.claims.claims_in.import_claims`), check any claim still
`pending` (`recheck_pending`), batch every LA's approved unsent claims to its finance team
(`tasks.claims.routing.route_claims`), list the claims held for an admin. When the caller hands
in `decide` (the flow: an admin's approve/refuse form per held claim in the dashboard), the
held claims are put to it and the claims it approved are routed at once.

One LA's routing failing never stops the others: they are routed, the summary lists the failure
(`failed`: LA code and error type), and the run as a whole has failed — the flow ends Failed (the
dashboard shows it and the failure hook emails the team) and the CLI exits 1. `RoutingFailed`
carries the summary so both say the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import select

from models.db import ExpenseClaim
from models.errors import InternalError
from tasks.claims.claims_in import held_claims, import_claims, recheck_pending
from tasks.claims.routing import Routed, batches_table, las_with_claims_to_send, route_claims
from tasks.db import unit_of_work
from tasks.steps import Step, call
from tasks.wiring import Wiring, wired

#: The import counts the summary keeps (the per-record results stay with `drs claims import`).
IMPORT_COUNTS = ("imported", "updated", "duplicates", "invalid", "approved", "query", "held", "rejected")

#: What only a Prefect flow run does, named in `ClaimsSummary.skipped` when the run did without it.
ARTIFACT = "dashboard artifact expense-routing-batches"
DECISIONS = "admin decisions on held claims in the dashboard"
TEAM_TOLD = "failed flow run and the team's failure email"

#: An admin's decisions on the held claims: (decisions made, whether every claim was answered in
#: time), or None when the admin is not asked in this run.
Decide = Callable[[list[dict[str, Any]]], "tuple[list[dict[str, Any]], bool] | None"]


@dataclass(frozen=True)
class ClaimsSummary:
    """What one `expense-routing` run did; `as_dict()` is `drs claims route --json` and the flow's return."""

    imported: Mapping[str, int]
    checked: Mapping[str, int]
    routed: Routed
    held: int
    decisions: tuple[dict[str, Any], ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def claims_sent(self) -> int:
        return sum(b["claims"] for b in self.routed.batches)

    @property
    def total_pence(self) -> int:
        return sum(b["total_pence"] for b in self.routed.batches)

    @property
    def failed(self) -> tuple[dict[str, str], ...]:
        return self.routed.failed

    def failure(self) -> str:
        """The one line naming each LA whose routing failed (empty when none did)."""
        return ", ".join(f"{f['la']} ({f['error']})" for f in self.failed)

    def batches_table(self) -> list[dict[str, Any]]:
        """The run's table artifact rows: per LA, batch ref, count and total (no names)."""
        return batches_table(self.routed.batches + self.routed.not_sent)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": dict(self.imported),
            "checked": dict(self.checked),
            "batches": list(self.routed.batches),
            "skipped": list(self.routed.not_sent),
            "failed": list(self.routed.failed),
            "claims_sent": self.claims_sent,
            "total_pence": self.total_pence,
            "held": self.held,
            "decisions": list(self.decisions),
        }


class RoutingFailed(InternalError):
    """One or more LAs' routing failed (the others were routed); `summary` is the whole run's."""

    def __init__(self, summary: ClaimsSummary) -> None:
        super().__init__(f"expense routing failed for {summary.failure()}")
        self.summary = summary

    def __reduce__(self) -> tuple[Any, ...]:  # pickled with its summary (Prefect keeps a run's exception)
        return (type(self), (self.summary,))


#: What `recheck_pending` returns when no claim is pending.
NOTHING_CHECKED: Mapping[str, int] = MappingProxyType({"approved": 0, "query": 0, "held": 0, "rejected": 0})


def _any_claim(status: str) -> bool:
    """Is there a claim in `status`? (One indexed query: whether a step has anything to do.)"""
    with unit_of_work() as db:
        return db.scalar(select(ExpenseClaim.id).where(ExpenseClaim.status == status).limit(1)) is not None


def run(
    today: date,
    now: datetime,
    *,
    step: Step = call,
    wiring: Wiring | None = None,
    decide: Decide | None = None,
) -> ClaimsSummary:
    """Import, check and route expense claims (see the module docstring); never raises for one
    LA's failure — the summary lists it (`failed`) and the caller fails the run."""
    with wired(wiring):
        imported = step(import_claims, None, today, now)
        # a step with nothing to work on (the cheap check says so) is not run: the same result, one task run fewer
        checked = step(recheck_pending, today, now) if _any_claim("pending") else dict(NOTHING_CHECKED)
        routed = step(route_claims, today, now) if las_with_claims_to_send() else Routed((), (), ())
        held = step(held_claims) if _any_claim("held") else []
        decisions: list[dict[str, Any]] = []
        held_count = len(held)
        answer = decide(held) if held and decide is not None else None
        if answer is not None:
            decisions, complete = answer
            if any(d.get("status") == "approved" for d in decisions) or not complete:
                routed = routed.then(step(route_claims, today, now))
            held_count = len(step(held_claims))
    skipped = () if decide is not None else (ARTIFACT, DECISIONS) + ((TEAM_TOLD,) if routed.failed else ())
    return ClaimsSummary(
        imported={k: imported[k] for k in IMPORT_COUNTS},
        checked=checked,
        routed=routed,
        held=held_count,
        decisions=tuple(decisions),
        skipped=skipped,
    )
