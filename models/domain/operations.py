"""Operational rules: when the watchdog raises an alarm, and when a closed case is anonymised.

Pure functions over values (standard library only); the clock is always an argument.

Retention (service policy, not statute): the personal data of a case is anonymised
`RETENTION_MONTHS` calendar months after the case was closed. Two years covers the longest tail a
closed case can have here — an appeal lodged late on the final day (at most ~3 months after a
certificate), the First-tier Tribunal's hearing (usually within 12 months of registration) and a
complaint about the service — while figures for the LA contracts (counts, dates, amounts) are kept
for ever without anyone's name. Change it here and only here (the data-protection lead's call);
the `retention` flow and its tests read this constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from models.domain.calendar import add_months

#: Months after closure after which a case's personal data is anonymised (service policy).
RETENTION_MONTHS = 24
#: By this local time on a working day the deadline monitor must have completed successfully.
MONITOR_DUE_BY = time(9, 0)
#: An outbox message still waiting this long after it became due means delivery is stuck.
OUTBOX_MAX_AGE = timedelta(hours=1)


def anonymise_on_or_after(closed_on: date) -> date:
    """The first day a case closed on `closed_on` may be anonymised (closed + RETENTION_MONTHS)."""
    return add_months(closed_on, RETENTION_MONTHS)


def closed_before_for_retention(today: date) -> date:
    """Cases closed on or before this date are due for anonymisation on `today`."""
    return add_months(today, -RETENTION_MONTHS)


@dataclass(frozen=True)
class Problem:
    """Something the team must hear about. `key` is stable per kind, so it is alerted once a day."""

    key: str
    subject: str
    text: str


def watchdog_problems(
    now_local: datetime,
    working_day: bool,
    monitor_last_success_local: datetime | None,
    stale_outbox_count: int,
    oldest_waiting_since_local: datetime | None,
    api_error: str | None = None,
) -> list[Problem]:
    """The problems to alert on at `now_local` (service local time, aware).

    - `deadline-monitor`: on a working day at or after 09:00, no successful deadline-monitor run
      since midnight today (also raised when the job history cannot be read).
    - `outbox-stale`: messages due more than an hour ago are still not delivered.
    """
    problems: list[Problem] = []
    today = now_local.date()
    if working_day and now_local.time() >= MONITOR_DUE_BY:
        midnight = datetime.combine(today, time(0), tzinfo=now_local.tzinfo)
        if api_error:
            problems.append(
                Problem(
                    "deadline-monitor",
                    "Deadline monitor: cannot confirm it ran today",
                    f"The watchdog could not read the job history ({api_error}), so it cannot confirm "
                    "that the deadline monitor completed this morning. Please check the dashboard and "
                    "run `drs monitor` if it did not.",
                )
            )
        elif monitor_last_success_local is None or monitor_last_success_local < midnight:
            last = (
                f"It last completed on {monitor_last_success_local:%A %d %B at %H:%M}."
                if monitor_last_success_local
                else "It has never completed successfully."
            )
            problems.append(
                Problem(
                    "deadline-monitor",
                    "Deadline monitor has not run today",
                    f"The deadline monitor has not completed successfully today (it is due at 06:45). {last} "
                    "Certificate and appeal deadlines are not being watched until it does. Please check "
                    "the dashboard, and run `drs monitor` by hand if needed.",
                )
            )
    if stale_outbox_count:
        since = f" since {oldest_waiting_since_local:%A %d %B %H:%M}" if oldest_waiting_since_local else ""
        problems.append(
            Problem(
                "outbox-stale",
                f"{stale_outbox_count} email(s) waiting more than an hour",
                f"{stale_outbox_count} email(s) in the outbox have been due for more than an hour and are "
                f"still not delivered (the oldest{since}). The mail relay or the delivery job may be down. "
                "`drs mail deliver` sends them now and says what fails.",
            )
        )
    return problems
