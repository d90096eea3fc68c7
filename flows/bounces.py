"""bounce-check — every 15 minutes in office hours (Europe/London): read the bounce mailbox.

Delivery-status notifications in the bounce mailbox (`DRS_BOUNCE_MAILDIR` or the IMAP mailbox
`DRS_BOUNCE_IMAP_*`) are matched to outbox rows by the original Message-ID and recorded by the
job `tasks.bounces.job.run`, each of its steps a task: a hard bounce makes the email `bounced`
and a contact problem on the case; a bounced certificate or appeal reminder emails the team at
once; soft bounces still failing after 3 working days become contact problems. The `today` artifact is
refreshed so the families to phone show within one run, and the `bounce-check` markdown artifact
lists case references, codes and counts only.

Run it: `drs mail bounces`, or `prefect deployment run bounce-check/bounce-check`.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.hooks import notify_team_of_failure
from flows.parameters import plain_parameters
from flows.steps import as_task
from tasks.timekeeping import resolve_now


def render_summary(summary: dict) -> str:
    """The `bounce-check` artifact: counts, case references and reasons — no addresses."""
    out = [
        "# Bounce check",
        "",
        f"- notices read: {summary['read']} ({', '.join(summary['sources']) or 'no bounce mailbox configured'})",
        f"- bounces: {summary['bounces']} (hard {summary['hard']}, soft {summary['soft']}); "
        f"not bounces (auto-replies and others): {summary['not_bounces']}; unmatched: {summary['unmatched']}",
        f"- soft bounces now contact problems (3 working days): {summary['promoted']}; "
        f"escalated to the team: {summary['escalated']}; LA addresses corrected: {summary['la_settled']}",
        "",
        f"## Open contact problems ({len(summary['contact_problems'])})",
    ]
    for p in summary["contact_problems"][:50]:
        who = p["case_ref"] or p["la"] or "-"
        out.append(
            f"- {who} — {p['kind']} to the {p['recipient_role']}: {p['reason']} ({p['status']})"
            f"{', statutory' if p['statutory'] else ''}"
        )
    return "\n".join(out)


@plain_parameters
@flow(name="bounce-check", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def bounce_check(now: datetime | None = None) -> dict:
    """Read the bounce mailbox, record bounces as contact problems, escalate what cannot wait.

    Args:
        now: the moment to run as of (ISO-8601 with offset; default: now).
    """
    from flows.today import publish_today
    from tasks.bounces import job  # here: importing the flow stays light (issue 14)

    today, moment = resolve_now(now)
    summary = job.run(today, moment, step=as_task).as_dict()
    create_markdown_artifact(
        key="bounce-check",
        markdown=render_summary(summary),
        description="Bounces read and open contact problems (references only)",
    )
    publish_today(today, moment)
    return summary
