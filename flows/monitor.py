"""deadline-monitor — no statutory date passes unseen, certificates go out on time.

Daily early morning and at midday (see flows/deployments.py): refreshes clocks computed under an
old rule set or holiday file, marks missed clocks, issues the certificates families are owed
after declining mediation, alerts the owner of every clock due soon, due today or missed (each
alert once), queues the team's daily digest, and publishes the `deadline-digest` table artifact
(references only). When an LA wants certificates approved first, the run then pauses for each
one with a typed form (approve, reason) in the dashboard and issues it on approval.

Run it: `drs monitor [--today D]`, `prefect deployment run deadline-monitor/deadline-monitor`, or
in Python `deadline_monitor(today=date(2026, 11, 30))`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.input import RunInput
from pydantic import Field

from flows.hooks import notify_team_of_failure
from tasks.timekeeping import resolve_now


class CertificateApproval(RunInput):
    """The dashboard form shown when a run pauses for a certificate that needs approval."""

    approve: bool = Field(default=False, description="Issue this certificate now")
    reason: str = Field(default="", max_length=500, description="Why (kept with the certificate; no personal details)")


@task(cache_policy=NO_CACHE)
def refresh(today: date, now: datetime) -> dict:
    """Recompute stale clocks, record web-form declines (missed clocks are marked by `send_alerts`,
    in the same transaction as the alerts that follow from them)."""
    from tasks.deadlines.admin_files import check_admin_files
    from tasks.deadlines.monitor import record_web_form_declines, refresh_clocks

    check_admin_files(now)  # a wrong admin file: the team is told once a day, the last good one is used
    recomputed = refresh_clocks(today, now)
    declines = record_web_form_declines(today, now)
    return {"cases_recomputed": recomputed, "web_form_declines": len(declines)}


@task(cache_policy=NO_CACHE)
def issue_due_certificates(today: date, now: datetime) -> dict:
    """Issue the declined certificates that need no approval; hold the others."""
    from dataclasses import asdict

    from tasks.deadlines.monitor import MonitorSummary, certificate_work, issue_automatic

    summary = MonitorSummary(today=today.isoformat())
    waiting = issue_automatic(certificate_work(today), today, now, summary)
    return {
        "issued": summary.certificates_issued,
        "errors": summary.certificate_errors,
        "waiting": [asdict(w) for w in waiting],
    }


@task(cache_policy=NO_CACHE)
def send_alerts(today: date, now: datetime) -> dict:
    """Mark missed clocks, decide today's alerts and queue each once — one transaction (`sweep`);
    build the digest rows."""
    from models.domain.alerts import digest_rows
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.deadlines.digest import digest_table
    from tasks.deadlines.monitor import load_policy, sweep

    policy = load_policy()
    swept = sweep(today, now, policy)
    calendar = working_calendar()
    return {
        "alerts": dict(Counter(a.kind for a in swept.alerts)),
        "emails_queued": swept.queued,
        "clocks_marked_missed": swept.marked_missed,
        "digest": digest_table(digest_rows(swept.clocks, today, calendar, policy)),
    }


@task(cache_policy=NO_CACHE)
def send_digest(today: date, now: datetime, table: list[dict]) -> bool:
    """Queue the team's digest for today (once a day)."""
    from models.domain.alerts import DigestRow
    from tasks.deadlines.digest import queue_digest
    from tasks.deadlines.monitor import load_policy

    rows = [
        DigestRow(
            la_code=r["la"],
            case_ref=r["case"],
            clock=r["clock"],
            due=date.fromisoformat(r["due"]),
            target=date.fromisoformat(r["target"]),
            state=r["state"],
            owner=r["owner"],
            working_days_left=r["working_days_left"],
        )
        for r in table
    ]
    extra = tuple(_job_history(now))
    return queue_digest(today, now, rows, extra=extra, policy=load_policy())


def _job_history(now: datetime) -> list[str]:
    """'When each scheduled job last succeeded', for the foot of the digest (`last_successes`
    never raises: an unreachable API becomes a line saying so)."""
    from flows.deployments import SCHEDULED
    from flows.heartbeat import last_successes

    return ["When each scheduled job last succeeded:", *last_successes([spec.name for spec in SCHEDULED]).lines(now)]


@task(cache_policy=NO_CACHE)
def issue_approved(item: dict, today: date, now: datetime, reason: str) -> str:
    """Issue one approved certificate; returns its number or the reason it was not issued."""
    from tasks.deadlines.monitor import issue_one

    _, result = issue_one(
        item["case_id"],
        today,
        now,
        actor="dashboard:approval",
        cert_type=item["type"],
        approval_note=f"approved in the dashboard: {reason}"[:500],
    )
    return result


@task(cache_policy=NO_CACHE)
def refuse_certificate(item: dict, now: datetime, reason: str) -> None:
    """Record that an admin refused an automatic certificate."""
    from tasks.deadlines.monitor import CertificateWork, refuse_one

    refuse_one(CertificateWork(**item), now, f"refused in the dashboard: {reason}")


def _publish(today: date, table: list[dict]) -> None:
    from models.domain.alerts import DigestRow
    from tasks.deadlines.digest import digest_markdown

    create_table_artifact(
        key="deadline-digest",
        table=table
        or [
            {
                "la": "",
                "case": "",
                "clock": "nothing due",
                "state": "",
                "owner": "",
                "due": "",
                "target": "",
                "working_days_left": "",
            }
        ],
        description=f"Clocks due in the next 5 working days and missed ones, {today.isoformat()} (references only)",
    )
    rows = [
        DigestRow(
            r["la"],
            r["case"],
            r["clock"],
            date.fromisoformat(r["due"]),
            date.fromisoformat(r["target"]),
            r["state"],
            r["owner"],
            r["working_days_left"],
        )
        for r in table
    ]
    create_markdown_artifact(
        key="deadline-digest-summary",
        markdown=digest_markdown(today, rows),
        description="The deadline digest by local authority (references only)",
    )


def _carry_on_after_timeout() -> None:
    """An unanswered approval is not a failure: put the paused run back to Running so that it can
    complete (Prefect would otherwise fail it as "completed and never resumed")."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext
    from prefect.states import Running

    context = FlowRunContext.get()
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(
            context.flow_run.id, Running(message="no answer to the certificate approval in time"), force=True
        )


def _wait_for_approvals(
    waiting: list[dict], today: date, now: datetime, timeout_seconds: int, poll_seconds: int, summary: dict
) -> None:
    import time

    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import pause_flow_run

    budget_ends = time.monotonic() + timeout_seconds  # one budget for all: the midday run must not wait
    for n, item in enumerate(waiting):
        remaining = int(budget_ends - time.monotonic())
        if remaining < 1:
            break
        form = CertificateApproval.with_initial_data(
            description=(
                f"Case {item['case_ref']}: the family declined mediation on {item['trigger_on']}. "
                f"The LA asks for approval before the {item['type']} certificate is issued. "
                f"Approve to issue it today ({n + 1} of {len(waiting)})."
            ),
            approve=False,
            reason="",
        )
        try:
            answer = pause_flow_run(
                wait_for_input=form,
                timeout=remaining,
                poll_interval=poll_seconds,
                key=f"certificate-{item['case_ref']}-{item['type']}-{item['trigger_on']}".lower(),
            )
        except FlowPauseTimeout:
            _carry_on_after_timeout()
            break  # the rest stay awaiting approval; the next run asks again
        summary["awaiting_approval"].remove(item["case_ref"])
        if answer.approve:
            result = issue_approved(item, today, now, answer.reason)
            if result.startswith("error"):
                summary["certificate_errors"].append(result)
            else:
                summary["certificates_issued"].append(item["case_ref"])
        else:
            refuse_certificate(item, now, answer.reason)
            summary["certificates_refused"].append(item["case_ref"])


@flow(name="deadline-monitor", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def deadline_monitor(
    today: date | None = None,
    now: datetime | None = None,
    wait_for_approval: bool = True,
    approval_timeout_seconds: int = 7200,
    approval_poll_seconds: int = 10,
) -> dict:
    """Deadline monitoring: clocks, alerts, digest, certificates. Returns the run's summary.

    Args:
        today: Monitor as of this date (default: today in Europe/London).
        now: The moment of the run (default: now); wins over `today`.
        wait_for_approval: Pause for an admin's approval of certificates the LA wants approved
            (False: report them as awaiting approval and finish).
        approval_timeout_seconds: How long the run waits for answers in all (one pause per
            certificate); after that it finishes and the certificates still waiting are asked
            about again by the next run.
        approval_poll_seconds: How often a paused run checks for the answer.
    """
    today, now = resolve_now(now, today)
    step = refresh(today, now)
    certs = issue_due_certificates(today, now)
    sent = send_alerts(today, now)
    digest_queued = send_digest(today, now, sent["digest"])
    _publish(today, sent["digest"])
    summary = {
        "today": today.isoformat(),
        "cases_recomputed": step["cases_recomputed"],
        "clocks_marked_missed": sent["clocks_marked_missed"],
        "alerts": sent["alerts"],
        "emails_queued": sent["emails_queued"],
        "certificates_issued": list(certs["issued"]),
        "awaiting_approval": [w["case_ref"] for w in certs["waiting"]],
        "certificates_refused": [],
        "certificate_errors": list(certs["errors"]),
        "digest_queued": digest_queued,
        "digest_rows": len(sent["digest"]),
    }
    from tasks.operations.today import publish_today

    publish_today(today, now)
    if wait_for_approval and certs["waiting"]:
        _wait_for_approvals(certs["waiting"], today, now, approval_timeout_seconds, approval_poll_seconds, summary)
    return summary
