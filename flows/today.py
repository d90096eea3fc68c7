"""The Prefect side of the "Today" screen (`tasks.operations.today`): the markdown artifact `today`.

`publish_view(view)` publishes a screen already built; `publish_today(today, now)` is the task that
builds and publishes it (the deadline monitor and the bounce check call it after their run; the
watchdog builds the screen in its orchestrator and publishes that view).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

if TYPE_CHECKING:
    from tasks.operations.today import TodayView


def publish_view(view: TodayView) -> dict[str, int]:
    """Publish `view` as the markdown artifact `today`; returns the count per section.

    Must run inside a flow or task run (Prefect artifacts belong to one).
    """
    from tasks.operations.today import ARTIFACT_KEY, render_today  # here: importing flows stays light

    markdown = render_today(view)
    # The dashboard's page for a key (/artifacts/key/today) shows the latest version's
    # description, not its data: the screen is the description too, so that page shows it at once.
    create_markdown_artifact(key=ARTIFACT_KEY, markdown=markdown, description=markdown)
    return view.counts()


def publish_today_markdown(today: date, now: datetime) -> dict[str, int]:
    """Build the view and publish it as the markdown artifact `today`; returns the counts."""
    from tasks.operations.today import build_today

    return publish_view(build_today(today, now))


publish_today = task(name="publish-today", cache_policy=NO_CACHE)(publish_today_markdown)
