"""Flow-run state hooks: a failed or crashed run emails the team.

Sent through the mailer directly, not the outbox — the outbox may be what broke. The message
names the flow and the run (random words, never personal data) and links to the dashboard.
"""
from __future__ import annotations

import logging

from tasks.mailer import OutgoingEmail, mailer_from_settings
from tasks.settings import get_settings

log = logging.getLogger(__name__)


def notify_team_of_failure(flow, flow_run, state) -> None:
    """`on_failure` / `on_crashed` hook: one email to the team; never raises."""
    settings = get_settings()
    try:
        from prefect.settings import PREFECT_UI_URL

        ui = PREFECT_UI_URL.value() or "http://127.0.0.1:4200"
    except Exception:  # pragma: no cover - settings unavailable
        ui = "http://127.0.0.1:4200"
    state_name = getattr(state, "name", "Failed")
    text = (
        f"The scheduled job '{flow.name}' ended {state_name} (run '{flow_run.name}').\n\n"
        f"Nothing is lost: work not done in this run is picked up by the next one. Please look at the\n"
        f"run in the dashboard to see why: {ui}/runs/flow-run/{flow_run.id}\n\n"
        f"Message: {getattr(state, 'message', '') or '(none)'}\n"
    )
    mailer = mailer_from_settings(settings)
    try:
        mailer.send(OutgoingEmail(
            to=settings.team_email, subject=f"[drs-flows] {flow.name} {state_name.lower()}", text=text,
            message_key=f"flow-failure-{flow_run.id}",
        ))
    except Exception as exc:  # a hook must not mask the run's own failure
        log.error("could not email the team about failed run %s: %s", flow_run.name, type(exc).__name__)
    finally:
        mailer.close()
