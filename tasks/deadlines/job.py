"""deadline-monitor, the one orchestrator: no statutory date passes unseen, certificates go out on time.

`run(today, now, *, step)` is the whole job, run the same two ways (issue 13):

- by the Prefect flow `flows.monitor.deadline_monitor`, with `step=flows.steps.as_task` (each step
  a task in the dashboard); the flow then adds the Prefect-only extras: the `deadline-digest`
  artifacts, the `today` screen, and a pause per certificate an LA wants approved;
- by `drs monitor` when no Prefect server is reachable, with `step=call`: the same steps as plain
  calls; the summary's `skipped` names the extras it did not do.

The steps, in order:

1. `check_admin_files` — a wrong admin file: the team is told once a day, the last good one is used.
2. `refresh_clocks`, `record_web_form_declines` (`tasks.deadlines.refresh`).
3. `issue_due_certificates` (`tasks.deadlines.due_certificates`): declined certificates issued, or
   held for approval when the LA's `certificate_needs_approval` is set.
4. `sweep` (`tasks.deadlines.sweep`): missed clocks marked, today's alerts decided and queued once —
   one transaction; and the digest's rows, decided from the same clocks.
5. `queue_digest` (`tasks.deadlines.digest`): the team's digest, key `digest:<date>`, with the job
   history at its foot (`job_history`, read from the Prefect API — only when the digest is written —
   the digest says so when the API cannot be reached).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from models.domain.alerts import AlertPolicy
from models.domain.digest import DigestRow
from tasks.deadlines.admin_files import check_admin_files
from tasks.deadlines.digest import queue_digest
from tasks.deadlines.due_certificates import (
    CertificateIssued,
    CertificateNotIssued,
    CertificateWork,
    IssueOutcome,
    issue_due_certificates,
)
from tasks.deadlines.refresh import record_web_form_declines, refresh_clocks
from tasks.deadlines.sweep import load_policy, sweep
from tasks.gc_pauses import gc_paused
from tasks.steps import Step, call
from tasks.wiring import Wiring, wired

#: What only the Prefect flow does: the run's artifacts (the digest tables, the `today` screen) and
#: the pauses for certificates an LA wants approved.
SKIPPED_WITHOUT_PREFECT = ("dashboard artifacts", "approval pauses")

#: `job_history(now)`: the lines at the foot of the digest (when each scheduled job last succeeded).
JobHistory = Callable[[datetime], list[str]]


@dataclass(frozen=True)
class MonitorSummary:
    """What one run did. `as_dict()` is the JSON of `drs monitor --json` and the flow's return value."""

    today: date
    cases_recomputed: int = 0
    clocks_marked_missed: int = 0
    alerts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))  # kind -> alerts decided
    emails_queued: int = 0  # new outbox rows this run (0 on a second run the same day)
    certificates_issued: tuple[str, ...] = ()  # case refs
    awaiting_approval: tuple[CertificateWork, ...] = ()
    certificates_refused: tuple[str, ...] = ()
    certificate_errors: tuple[CertificateNotIssued, ...] = ()
    digest_queued: bool = False
    digest: tuple[DigestRow, ...] = ()  # the clocks due in 5 working days or missed
    skipped: tuple[str, ...] = ()  # Prefect-only extras this run did not do

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "cases_recomputed": self.cases_recomputed,
            "clocks_marked_missed": self.clocks_marked_missed,
            "alerts": dict(self.alerts),
            "emails_queued": self.emails_queued,
            "certificates_issued": list(self.certificates_issued),
            "awaiting_approval": [w.case_ref for w in self.awaiting_approval],
            "certificates_refused": list(self.certificates_refused),
            "certificate_errors": [e.message for e in self.certificate_errors],
            "digest_queued": self.digest_queued,
            "digest_rows": len(self.digest),
        }

    def answered(self, item: CertificateWork, outcome: IssueOutcome | None) -> MonitorSummary:
        """This summary after an admin's answer about `item`: issued or not (`outcome`), or refused (None)."""
        waiting = tuple(w for w in self.awaiting_approval if w != item)
        if outcome is None:
            return replace(
                self, awaiting_approval=waiting, certificates_refused=(*self.certificates_refused, item.case_ref)
            )
        if isinstance(outcome, CertificateIssued):
            return replace(
                self, awaiting_approval=waiting, certificates_issued=(*self.certificates_issued, item.case_ref)
            )
        return replace(self, awaiting_approval=waiting, certificate_errors=(*self.certificate_errors, outcome))


def run(
    today: date,
    now: datetime,
    *,
    step: Step = call,
    wiring: Wiring | None = None,
    policy: AlertPolicy | None = None,
    job_history: JobHistory | None = None,
) -> MonitorSummary:
    """Deadline monitoring as of `today` (a local date) at `now`; see the module's docstring.

    Certificates needing approval are held and reported as awaiting approval (the flow asks for
    them after this returns). `job_history` gives the digest's foot (none when not given).
    """
    with wired(wiring), gc_paused():  # no collector passes over the day's objects (issue 14)
        step(check_admin_files, now)
        policy = policy or load_policy()
        recomputed = step(refresh_clocks, today, now)
        step(record_web_form_declines, today, now)
        certificates = step(issue_due_certificates, today, now)
        swept = step(sweep, today, now, policy)
        rows = swept.digest
        # the job history is read (from the Prefect API) only when the digest is written
        extra = _history_of(job_history, now) if job_history is not None else ()
        digest_queued = step(queue_digest, today, now, list(rows), extra, policy)
    return MonitorSummary(
        today=today,
        cases_recomputed=recomputed,
        clocks_marked_missed=swept.marked_missed,
        alerts=swept.alerts,
        emails_queued=swept.queued,
        certificates_issued=certificates.issued,
        awaiting_approval=certificates.waiting,
        certificate_errors=certificates.errors,
        digest_queued=digest_queued,
        digest=rows,
        skipped=SKIPPED_WITHOUT_PREFECT,
    )


def _history_of(job_history: JobHistory, now: datetime) -> Callable[[], tuple[str, ...]]:
    """The digest's foot, read when asked for (`queue_digest` asks only when it writes the digest:
    not on a second run the same day, nor on a day off)."""
    return lambda: tuple(job_history(now))
