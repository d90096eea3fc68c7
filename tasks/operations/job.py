"""watchdog, the one orchestrator: alerts that don't depend on luck, and the team's "Today" screen.

`run(today, now, *, step, heartbeat)` is the whole check, run the same two ways (issue 13): by the
Prefect flow `flows.watchdog.watchdog` (`step=flows.steps.as_task`; the flow then publishes the
`job-heartbeat` and `today` artifacts and logs the screen's address), or as plain calls
(`step=call`; the summary's `skipped` names those artifacts).

1. `heartbeat()` — when each scheduled job last succeeded, read from the Prefect API by the caller
   (`flows.heartbeat.scheduled_heartbeat`; never raises: an unreachable API is its `api_error`).
2. `outbox_backlog` — how many messages have waited more than an hour, and since when.
3. `models.domain.operations.watchdog_problems` decides: the deadline monitor has not completed by
   09:00 on a working day, or the outbox is stuck.
4. `alert_team_once` — the team is emailed through the mailer (not the outbox), once a day per problem.
5. `build_today` — the Today screen (its counts are the summary's `today`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Any, Protocol

from models.domain.operations import MONITOR_DUE_BY, Problem, watchdog_problems
from tasks.operations.today import TodayView, build_today
from tasks.operations.watchdog import alert_team_once, outbox_backlog
from tasks.steps import Step, call
from tasks.timekeeping import local_tz
from tasks.wiring import Wiring, wired

#: What only the Prefect flow does: the `job-heartbeat` and `today` artifacts (and the log line
#: with the screen's address).
SKIPPED_WITHOUT_PREFECT = ("dashboard artifacts", "runs lost with their machine")


class Heartbeat(Protocol):
    """When each scheduled job last succeeded (`flows.heartbeat.Heartbeat`)."""

    @property
    def last_success(self) -> Mapping[str, datetime | None]: ...

    @property
    def api_error(self) -> str | None: ...

    def lines(self, now: datetime) -> list[str]: ...


@dataclass(frozen=True)
class WatchdogSummary:
    """What one check found and did. `as_dict()` is the flow's return value."""

    problems: tuple[Problem, ...]
    alerted: tuple[str, ...]  # problem keys emailed now (each at most once a day)
    outbox_waiting: int
    today: Mapping[str, int]  # section of the Today screen -> count
    heartbeat_lines: tuple[str, ...]  # one per scheduled job, for the `job-heartbeat` artifact
    screen: TodayView  # the Today screen, for the `today` artifact
    skipped: tuple[str, ...] = ()  # Prefect-only extras this run did not do

    def as_dict(self) -> dict[str, Any]:
        return {
            "problems": [p.key for p in self.problems],
            "alerted": list(self.alerted),
            "outbox_waiting": self.outbox_waiting,
            "today": dict(self.today),
        }


def run(
    today: date,
    now: datetime,
    *,
    step: Step = call,
    wiring: Wiring | None = None,
    heartbeat: Callable[[], Heartbeat],
) -> WatchdogSummary:
    """Check the deadline monitor and the outbox as of `now`; alert the team; build the Today screen."""
    with wired(wiring):
        beat = step(heartbeat)
        waiting, oldest = step(outbox_backlog, now)
        problems = _problems(today, now, beat, waiting, oldest)
        alerted = step(alert_team_once, problems, today, now) if problems else []
        screen = step(build_today, today, now)
    return WatchdogSummary(
        problems=tuple(problems),
        alerted=tuple(alerted),
        outbox_waiting=waiting,
        today=MappingProxyType(screen.counts()),
        heartbeat_lines=tuple(beat.lines(now)),
        screen=screen,
        skipped=SKIPPED_WITHOUT_PREFECT,
    )


def _problems(today: date, now: datetime, beat: Heartbeat, waiting: int, oldest: datetime | None) -> list[Problem]:
    from tasks.deadlines.calendar_source import working_calendar

    tz = local_tz()
    monitor = beat.last_success.get("deadline-monitor")
    now_local, last = now.astimezone(tz), (monitor.astimezone(tz) if monitor else None)
    midnight = datetime.combine(now_local.date(), time(0), tzinfo=now_local.tzinfo)
    # whether today is a working day only matters when the monitor may be missing (the calendar
    # costs ~0.5 s to build; an idle watchdog after the morning's monitor run never needs it)
    matters = now_local.time() >= MONITOR_DUE_BY and (beat.api_error or last is None or last < midnight)
    return watchdog_problems(
        now_local,
        working_calendar().is_working_day(today) if matters else False,
        last,
        waiting,
        oldest.astimezone(tz) if oldest else None,
        api_error=beat.api_error,
    )
