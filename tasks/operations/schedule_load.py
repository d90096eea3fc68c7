"""How many scheduled flow runs the deployments make a day — counted from their crons.

Pure and standard-library only, so a test can hold `flows/deployments.py` and `prefect.yaml` to
the budget (at most `DAILY_BUDGET` scheduled runs a day in all: each run is a row in Prefect's
database and a line on the dashboard's Runs page).

Crons are the five-field kind the deployments use (`*`, lists, ranges, `*/n` and `a-b/n` steps),
read in local time; day-of-month and day-of-week combine as in cron (either matches when both are
restricted). Days with a clock change are counted like any other day: nothing is scheduled
01:00-03:00 local time, where the clocks change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

#: The most scheduled flow runs a day the deployments may make together.
DAILY_BUDGET = 100

_RANGES = {"minute": (0, 59), "hour": (0, 23), "dom": (1, 31), "month": (1, 12), "dow": (0, 6)}


def _field(text: str, name: str) -> set[int]:
    low, high = _RANGES[name]
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            start, end = low, high
        elif "-" in body:
            start, end = (int(x) for x in body.split("-"))
        else:
            start = int(body)
            end = high if step_text else start
        if name == "dow":
            values |= {v % 7 for v in range(start, end + 1, step)}  # 7 is Sunday too
        else:
            values |= set(range(start, end + 1, step))
    if not values or min(values) < low or max(values) > high:
        raise ValueError(f"bad cron {name} field {text!r}")
    return values


def runs_on(cron: str, day: date) -> int:
    """How many times `cron` fires on the local date `day`."""
    minute, hour, dom, month, dow = cron.split()
    if day.month not in _field(month, "month"):
        return 0
    cron_dow = day.isoweekday() % 7  # cron: Sunday = 0
    dom_ok, dow_ok = day.day in _field(dom, "dom"), cron_dow in _field(dow, "dow")
    if dom != "*" and dow != "*":
        matches = dom_ok or dow_ok
    else:
        matches = dom_ok and dow_ok
    return len(_field(minute, "minute")) * len(_field(hour, "hour")) if matches else 0


def longest_gap_minutes(crons: Iterable[str]) -> int:
    """The longest wait, in minutes, between two firings of `crons` on a day they all run (the
    day and month fields are ignored), across midnight too."""
    times = sorted(
        {
            h * 60 + m
            for cron in crons
            for m in _field(cron.split()[0], "minute")
            for h in _field(cron.split()[1], "hour")
        }
    )
    times.append(times[0] + 24 * 60)
    return max(b - a for a, b in zip(times, times[1:]))


def runs_per_day(crons_by_job: Mapping[str, Iterable[str]], day: date) -> dict[str, int]:
    """{job: scheduled runs on `day`} for each job's crons."""
    return {job: sum(runs_on(cron, day) for cron in crons) for job, crons in crons_by_job.items()}


def busiest_day(crons_by_job: dict[str, Iterable[str]], start: date, days: int = 366) -> tuple[date, int]:
    """(the day with most scheduled runs in all, that number) over `days` days from `start`."""
    crons = {job: tuple(c) for job, c in crons_by_job.items()}
    best = (start, -1)
    for n in range(days):
        day = start + timedelta(days=n)
        total = sum(runs_per_day(crons, day).values())
        if total > best[1]:
            best = (day, total)
    return best


def crons_from_prefect_yaml(text: str) -> dict[str, list[str]]:
    """{deployment name: its crons} read from the text of `prefect.yaml`."""
    import yaml

    doc = yaml.safe_load(text)
    return {d["name"]: [s["cron"] for s in d.get("schedules") or []] for d in doc["deployments"]}
