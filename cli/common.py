"""What every `drs` command shares: dates, JSON output, errors, and running a flow.

Exit status (README.md, "Command line: `drs`"): 0 done; 1 the run failed; 2 usage or input error with one line on stderr.
Nothing here imports Prefect: only `run_flow` does, and only when a server is reachable.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import urllib.request
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, overload
from zoneinfo import ZoneInfo

import click

from models.errors import InvalidInput
from tasks.settings import get_settings


class InputError(InvalidInput, click.ClickException):
    """A usage or input error the CLI finds itself (an option that cannot be used): exit 2, one line
    on stderr. Errors from below (`models.errors.UserError` and its subclasses) need no wrapping:
    the `drs` group turns each into this (see `cli.main.LazyGroup.invoke`)."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        click.ClickException.__init__(self, message)  # ValueError.__init__ (before it) does not chain

    def show(self, file=None) -> None:
        click.echo(f"drs: error: {self.format_message()}", err=True)


def local_tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


@overload
def parse_date(value: str, name: str = ...) -> date: ...
@overload
def parse_date(value: None, name: str = ...) -> None: ...
@overload
def parse_date(value: str | None, name: str = ...) -> date | None: ...
def parse_date(value: str | None, name: str = "date") -> date | None:
    """A date typed as option `name` (models/domain/dates.py: ISO, in the sane window), or None."""
    from models.domain.dates import read_date_option

    return None if value is None else read_date_option(value, name)


@overload
def parse_datetime(value: str, name: str = ...) -> datetime: ...
@overload
def parse_datetime(value: None, name: str = ...) -> None: ...
@overload
def parse_datetime(value: str | None, name: str = ...) -> datetime | None: ...
def parse_datetime(value: str | None, name: str = "time") -> datetime | None:
    """An ISO-8601 date-time typed as option `name`; without an offset it is the service's local
    time (models/domain/dates.py), or None."""
    from models.domain.dates import read_datetime_option

    return None if value is None else read_datetime_option(value, name, local_tz())


def resolve_clock(today: str | None = None, now: str | None = None) -> tuple[date, datetime]:
    """(today, now) from `--today`/`--now`; the default is now in `DRS_TIMEZONE`.

    `--now` wins over `--today`; with `--today` alone, now is 09:00 local on that day.
    """
    from tasks.timekeeping import DateWindowError, resolve_now

    try:
        return resolve_now(parse_datetime(now, "--now"), parse_date(today, "--today"))
    except DateWindowError as exc:
        raise InputError(f"--{exc}") from None


def today_options(func: Callable) -> Callable:
    func = click.option("--now", "now", default=None, help="ISO-8601 date-time with offset (default: now)")(func)
    return click.option("--today", "today", default=None, help="YYYY-MM-DD (default: today in DRS_TIMEZONE)")(func)


def json_option(func: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="print one JSON document on stdout")(func)


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, default=str, ensure_ascii=False))


def server_file() -> Path:
    return get_settings().prefect_home / "server.json"


def prefect_server_url() -> str | None:
    """The API URL of a reachable Prefect server: `PREFECT_API_URL`, or the one `make run` recorded."""
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        try:
            url = json.loads(server_file().read_text())["api_url"]
        except (OSError, ValueError, KeyError):
            return None
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=1.0) as response:
            if response.status != 200:
                return None
    except OSError:
        return None
    from cli.prefect_auth import check_api_auth

    check_api_auth(url)  # a password-protected server without PREFECT_API_AUTH_STRING: exit 2, one line
    return url


def configure_prefect_env(api_url: str | None = None) -> None:
    """Prefect settings for an offline, unattended install (set before Prefect is imported)."""
    settings = get_settings()
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home.resolve()))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE", "200")
    os.environ.setdefault("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE", "200")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url


def run_flow(flow_ref: str, direct: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a flow: as a recorded flow run when a server is reachable, else `direct(**kwargs)`.

    `flow_ref` is "module:function" of the Prefect flow; `direct` is the same work as plain
    functions. Both must return the same summary. Without a server the run is not recorded and
    stderr says so (never a ~15 s temporary server).
    """
    url = prefect_server_url()
    if url is None:
        click.echo("drs: no Prefect server reachable; running directly (not recorded in the dashboard)", err=True)
        return direct(**kwargs)
    configure_prefect_env(url)
    from cli.recorded import prepare_env, run_recorded  # no heartbeat; `cli.main` exits fast afterwards

    prepare_env()
    module, name = flow_ref.split(":")
    flow = getattr(importlib.import_module(module), name)

    return run_recorded(flow, kwargs)


def say_skipped(skipped: Sequence[str]) -> None:
    """One stderr line naming what a job run without a Prefect server did not do (its summary's
    `skipped`: dashboard artifacts, approval pauses, background delivery…); nothing when empty."""
    if skipped:
        click.echo(f"drs: skipped without a server: {', '.join(skipped)}", err=True)


def fail(message: str) -> None:
    """The run failed (exit 1)."""
    click.echo(f"drs: {message}", err=True)
    sys.exit(1)
