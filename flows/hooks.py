"""Flow-run state hooks: a failed or crashed run emails the team.

Sent through the mailer directly, not the outbox — the outbox may be what broke. The message
names the flow and the run (random words, never personal data) and links to the dashboard.
"""

from __future__ import annotations

import logging

from models.errors import UserError

log = logging.getLogger(__name__)


def notify_team_of_failure(flow, flow_run, state) -> None:
    """`on_failure` / `on_crashed` hook: one email to the team; never raises."""
    from tasks.mail.mailer import OutgoingEmail, mailer_from_settings  # only when a run fails: not on every import
    from tasks.settings import get_settings

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
        mailer.send(
            OutgoingEmail(
                to=settings.team_email,
                subject=f"[drs-flows] {flow.name} {state_name.lower()}",
                text=text,
                message_key=f"flow-failure-{flow_run.id}",
            )
        )
    except Exception as exc:  # a hook must not mask the run's own failure
        log.error("could not email the team about failed run %s: %s", flow_run.name, type(exc).__name__)
    finally:
        mailer.close()


def refusal_fails_run(fn):
    """Wrap an admin flow's function (under `@flow`): a refused action — an unknown case, a date in
    the future, a meeting that cannot move — ends the run Failed with the reason as its message and
    one line in the log, not an exception with two tracebacks in the `make run` terminal. A database
    error is said plainly ("the database refused the change (IntegrityError)"), never with its SQL.
    Anything else is a bug and is raised as it is (the run crashes and the team is told)."""
    import functools
    import inspect
    import typing

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from prefect.logging import get_run_logger
        from prefect.states import Failed
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return fn(*args, **kwargs)
        except UserError as exc:  # by type (models/errors.py): an unknown case, a refused action
            reason = f"refused: {_one_line(exc)}"
        except SQLAlchemyError as exc:
            reason = (
                f"the database refused the change ({type(getattr(exc, 'orig', None) or exc).__name__}); "
                "nothing was saved"
            )
        get_run_logger().warning(reason)
        _quiet_engine_traceback()
        return Failed(message=reason)

    # Prefect builds the Run form and validates parameters from the signature: give it the
    # resolved annotations (`fn`'s module globals are not the wrapper's).
    wrapper.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    wrapper.__annotations__ = typing.get_type_hints(fn)
    return wrapper


REFUSED = ("refused: ", "the database refused the change")


class _RefusalTracebackFilter:
    """Drops the engine's "Engine execution exited with unexpected exception" record (with the
    traceback of `FailedRun`) that Prefect logs when a deployment run ends Failed — for our own
    refusals only: the run's reason is already logged in one line and is the state's message."""

    def filter(self, record) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or type(exc).__name__ != "FailedRun":
            return True
        return not str(exc).startswith(REFUSED)


_filter = _RefusalTracebackFilter()


def _quiet_engine_traceback() -> None:
    """Install `_RefusalTracebackFilter` on the flow-run logger of this process (once)."""
    run_logger = logging.getLogger("prefect.flow_runs")
    if _filter not in run_logger.filters:
        run_logger.addFilter(_filter)


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
