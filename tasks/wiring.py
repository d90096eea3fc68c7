"""One place wires a job: the settings and the database it runs with.

Every job's orchestrator takes `wiring: Wiring | None = None` and runs inside `wired(wiring)`.
`None` means "from the environment" (the `DRS_*` variables and `.env`): what the CLI and the
flows pass. A test hands in its own `Wiring` (another database, another home folder, another SMTP
server) without touching the environment. Inside, `tasks.settings.get_settings()` and
`tasks.db.unit_of_work()` answer from the wiring in force.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tasks.settings import Settings


@dataclass(frozen=True)
class Wiring:
    """What a job runs with: its settings (the database URL is `settings.db_url`)."""

    settings: Settings

    @classmethod
    def from_environment(cls) -> Wiring:
        from tasks.settings import read_settings

        return cls(settings=read_settings())


_CURRENT: ContextVar[Wiring | None] = ContextVar("drs_wiring", default=None)


def current() -> Wiring | None:
    """The wiring in force, or None outside any job (then the environment decides)."""
    return _CURRENT.get()


@contextmanager
def wired(wiring: Wiring | None = None) -> Iterator[Wiring]:
    """Run the body with `wiring` (default: the one in force, else the environment's)."""
    chosen = wiring or current() or Wiring.from_environment()
    token = _CURRENT.set(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.reset(token)
