"""Every deployment of drs-flows in one place: what `drs serve` serves and what `prefect.yaml` declares.

Each `DeploymentSpec` names the deployment (= the flow's name), its entrypoint as
"module:attribute", its cron schedules (all in Europe/London), a description, tags and default
parameters. Every deployment has a concurrency limit of one, so its runs never overlap.

Scheduling rules (issue 8):
- every cron is evaluated in `Europe/London` (`TIMEZONE`), so 06:45 is 06:45 in winter and summer;
- nothing is scheduled between 01:00 and 03:00 local time: that is where the clocks change
  (01:00→02:00 in March, 02:00→01:00 in October), so a run there could happen twice or never.
  The frequent jobs (intake, delivery sweep, outbox watchdog) therefore pause for those two hours;
- at most 100 scheduled flow runs a day in all (`tasks.operations.schedule_load`, tested): intake and the
  delivery sweep are hourly safety sweeps, because `drs serve` watches the inbox and the outbox
  every minute and starts work only when there is some (`cli.watch`);
- after downtime nothing piles up: each flow works out what is due from the database.

Nothing here imports Prefect or the flow modules at import time: `load_flow` imports one flow
module when it is needed.

Run `python -m flows.deployments yaml` to print the `prefect.yaml` these specs describe, and
`python -m flows.deployments check` to compare it with the file in the repository.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from typing import Any

from flows.prefect_yaml import render, repository_yaml_path  # noqa: F401 — re-exported
from models.errors import NotFound

#: The time zone every schedule is evaluated in (the service's local time).
TIMEZONE = "Europe/London"
#: The process work pool `prefect deploy --all` targets (see notes/issue-8.md).
WORK_POOL = "drs-process"
#: Hours (local) in which nothing may be scheduled: the daylight-saving transitions.
QUIET_HOURS = (1, 2)


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment. `entrypoint` is "package.module:attribute" of the `@flow` function."""

    name: str
    entrypoint: str
    crons: tuple[str, ...]
    description: str
    tags: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    concurrency_limit: int = 1

    @property
    def module(self) -> str:
        return self.entrypoint.split(":")[0]

    @property
    def attribute(self) -> str:
        return self.entrypoint.split(":")[1]

    @property
    def file_entrypoint(self) -> str:
        """The entrypoint as `prefect.yaml` writes it: `flows/intake.py:referral_intake`."""
        return f"{self.module.replace('.', '/')}.py:{self.attribute}"


SCHEDULED: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "referral-intake",
        "flows.intake:referral_intake",
        ("0 0,4,6,8,10,12,14,16,18,20,22 * * *",),
        "Take new referral files from the inbox, open or link cases, queue the acknowledgements "
        "(idempotent by form id). `drs serve` starts a run within a minute of a file arriving; "
        "this two-hourly schedule is the safety sweep.",
        ("intake",),
    ),
    DeploymentSpec(
        "deliver-email",
        "flows.delivery:deliver_email",
        ("0 0,3-23 * * *", "59 0 * * *"),
        "Hourly safety sweep (and 00:59, so no gap exceeds the 01:00-03:00 pause): deliver whatever "
        "is due in the outbox. New mail goes at once through the background task worker, and "
        "`drs serve` hands it anything due (retries, held mail, mail queued without a server) "
        "every minute.",
        ("email",),
    ),
    DeploymentSpec(
        "deadline-monitor",
        "flows.monitor:deadline_monitor",
        ("45 6,12 * * *",),
        "06:45 and 12:45: recompute clocks at risk, alert the team and the owners, publish the "
        "clocks-at-risk artifact and the daily digest.",
        ("deadlines",),
    ),
    DeploymentSpec(
        "session-reminders",
        "flows.reminders:session_reminders",
        ("0 8-20 * * *",),
        "Hourly 08:00-20:00: reminders and notices for mediation meetings.",
        ("sessions",),
    ),
    DeploymentSpec(
        "expense-routing",
        "flows.claims:expense_routing",
        ("15 9 * * 1-5",),
        "Weekdays 09:15: check imported expense claims against each LA's policy and send each "
        "LA's finance team its batch workbook; held claims then wait up to two hours for an "
        "admin's approve/refuse form in the dashboard.",
        ("claims",),
        {"admin_wait_minutes": 120},
    ),
    DeploymentSpec(
        "monthly-report",
        "flows.report:monthly_report",
        ("30 6 1 * *",),
        "On the 1st at 06:30: the previous month's workbook for the team and each commissioner.",
        ("reports",),
    ),
    DeploymentSpec(
        "retention",
        "flows.retention:retention",
        ("30 4 * * 0",),
        "Sundays 04:30: anonymise the personal data of cases closed more than the retention "
        "period ago (figures are kept).",
        ("operations",),
    ),
    DeploymentSpec(
        "watchdog",
        "flows.watchdog:watchdog",
        ("5 9 * * 1-5", "35 0,3,5,7,9,11,13,15,17,19,21,23 * * *"),
        "Weekdays 09:05 and every two hours: email the team if the deadline monitor has not completed "
        "today or the outbox holds messages older than an hour; refresh the 'today' artifact.",
        ("operations",),
    ),
    DeploymentSpec(
        "bounce-check",
        "flows.bounces:bounce_check",
        ("*/15 9-17 * * 1-5",),
        "Every 15 minutes in office hours (weekdays 09:00-17:45): read the bounce mailbox; a bounced "
        "email becomes a contact problem on its case, a bounced certificate or appeal reminder emails "
        "the team at once; refresh the 'today' artifact.",
        ("email",),
    ),
)

ADMIN: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "admin-record-case-event",
        "flows.admin:record_case_event",
        (),
        "Record what happened on a case (from the dashboard's Run form).",
        ("admin",),
    ),
    DeploymentSpec(
        "admin-issue-certificate",
        "flows.admin:issue_certificate",
        (),
        "Issue a mediation certificate: PDF and email to the family.",
        ("admin",),
    ),
    DeploymentSpec(
        "admin-schedule-session", "flows.admin:schedule_session", (), "Book a mediation meeting for a case.", ("admin",)
    ),
    DeploymentSpec(
        "admin-reschedule-session",
        "flows.admin:reschedule_session",
        (),
        "Move a mediation meeting to a new time.",
        ("admin",),
    ),
    DeploymentSpec("admin-cancel-session", "flows.admin:cancel_session", (), "Cancel a mediation meeting.", ("admin",)),
    DeploymentSpec(
        "admin-record-outcome", "flows.admin:record_outcome", (), "Record how a mediation meeting ended.", ("admin",)
    ),
    DeploymentSpec(
        "admin-decide-claim", "flows.admin:decide_claim", (), "Approve or refuse a held expense claim.", ("admin",)
    ),
    DeploymentSpec(
        "admin-correct-contact",
        "flows.admin:correct_contact",
        (),
        "Correct an address that bounced; the statutory emails that bounced are sent again.",
        ("admin",),
    ),
    DeploymentSpec(
        "admin-record-contact-reached",
        "flows.admin:record_contact_reached",
        (),
        "Record that a family was told by phone or letter after an email bounced.",
        ("admin",),
    ),
)

DEPLOYMENTS: tuple[DeploymentSpec, ...] = SCHEDULED + ADMIN

#: Background tasks (`task.delay(...)`) the task worker inside `drs serve` runs, "module:attribute".
BACKGROUND_TASKS: tuple[str, ...] = ("flows.delivery:deliver_outbox_batch",)


def enter_project() -> dict[str, str]:
    """The pull step of every deployment in `prefect.yaml`: on the worker's machine, before a run,
    make the folder of the project that this Python imports `flows` from the working directory
    (the process worker starts each run in a temporary folder). So the code may sit at any path on
    any machine, as long as the worker runs the project's own Python (`.venv/bin/prefect worker
    start`, after `make install`); the deployment stores no path of the machine that deployed it."""
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    os.chdir(root)
    return {"directory": str(root)}


def get_spec(name: str) -> DeploymentSpec:
    for spec in DEPLOYMENTS:
        if spec.name == name:
            return spec
    raise KeyError(name)


class FlowNotAvailable(NotFound):
    """The module of a deployment holds no flow of that name."""


def load_flow(spec: DeploymentSpec):
    """The `Flow` object for `spec`, imported on demand.

    Returns `(flow, note)`: `note` is None, or says that the registry's attribute is out of date
    and the flow was found by its name instead. Raises `FlowNotAvailable` when the module holds no
    flow named `spec.name`; an error importing the module (a bug) is raised as it is.
    """
    module = importlib.import_module(spec.module)
    candidate = getattr(module, spec.attribute, None)
    if candidate is not None and getattr(candidate, "name", None) == spec.name:
        return candidate, None
    from prefect import Flow

    for attr, value in vars(module).items():
        if isinstance(value, Flow) and value.name == spec.name:
            return value, f"found as {spec.module}:{attr} (registry says {spec.attribute})"
    raise FlowNotAvailable(f"{spec.module} has no flow named {spec.name!r}")


def load_background_tasks() -> tuple[list, list[str]]:
    """(tasks to serve, notes naming those not found in their module) for `BACKGROUND_TASKS`."""
    tasks, notes = [], []
    for ref in BACKGROUND_TASKS:
        module_name, attribute = ref.split(":")
        module = importlib.import_module(module_name)
        task = getattr(module, attribute, None)
        if task is None:
            notes.append(f"{ref}: no such task")
            continue
        tasks.append(task)
    return tasks, notes


def schedules_for(spec: DeploymentSpec) -> list:
    from prefect.schedules import Cron

    return [Cron(cron, timezone=TIMEZONE) for cron in spec.crons]


def to_runner_deployment(spec: DeploymentSpec, flow=None):
    """A `RunnerDeployment` for `prefect.serve` (module-path entrypoint, concurrency limit, schedules)."""
    from prefect.deployments.runner import EntrypointType

    flow = flow if flow is not None else load_flow(spec)[0]
    return flow.to_deployment(
        name=spec.name,
        schedules=schedules_for(spec),
        concurrency_limit=spec.concurrency_limit,
        parameters=dict(spec.parameters),
        description=spec.description,
        tags=list(spec.tags),
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def render_prefect_yaml(specs: tuple[DeploymentSpec, ...] = DEPLOYMENTS) -> str:
    """The text of `prefect.yaml` for `specs` (see `flows.prefect_yaml`)."""
    return render(specs, WORK_POOL, TIMEZONE)


if __name__ == "__main__":
    from flows.prefect_yaml import main

    sys.exit(main(sys.argv[1:]))
