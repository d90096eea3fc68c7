"""What every admin form (`flows/admin.py`) shares: the dropdowns' choices, and `admin_flow`, the
decorator that makes a function a dashboard form.

`@admin_flow("admin-…", forget=("email",))` turns the function into the `@flow` of that name
(no team email for a refusal, one for a crash), makes a refusal a Failed run with its reason
(`flows.hooks.refusal_fails_run`), forgets the named parameters from Prefect's database
(qa-15-17), requires "your name" (recorded as the audit line's operator) and reads the clock
once; the function reads it with `form()` and calls its action's one Prefect-free entry.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, overload

from prefect import flow

from flows.hooks import notify_team_of_failure, refusal_fails_run
from models.domain.vocabulary import AGREEMENT_ITEMS, CERTIFICATE_TYPES, EVENTS, OUTCOMES
from tasks.privacy.audit_trail import require_operator
from tasks.timekeeping import resolve_now

#: `recorded_by` / `actor` of every change made from the dashboard
ACTOR = "dashboard"

CaseEventCode = Enum("CaseEventCode", {e.replace("-", "_"): e for e in EVENTS}, type=str, module=__name__)  # type: ignore[misc]
CertificateType = Enum(  # type: ignore[misc]
    "CertificateType", {c.replace("-", "_"): c for c in CERTIFICATE_TYPES}, type=str, module=__name__
)
AgreementItem = Enum("AgreementItem", {i.replace("-", "_"): i for i in AGREEMENT_ITEMS}, type=str, module=__name__)  # type: ignore[misc]
SessionOutcome = Enum("SessionOutcome", {o.replace("-", "_"): o for o in OUTCOMES}, type=str, module=__name__)  # type: ignore[misc]


class CancelledBy(str, Enum):
    family = "family"
    la = "la"
    service = "service"
    icb = "icb"


class ClaimDecision(str, Enum):
    approve = "approve"
    refuse = "refuse"


class ContactRole(str, Enum):
    family = "family"
    supporter = "supporter"
    icb = "icb"
    mediator = "mediator"
    other = "other"


class ReachedBy(str, Enum):
    phone = "phone"
    letter = "letter"


@dataclass(frozen=True)
class Form:
    """What a form's run knows besides its parameters: the clock (read once) and who pressed Run."""

    today: date
    now: datetime
    operator: str


_FORM: ContextVar[Form | None] = ContextVar("drs_admin_form", default=None)


def form() -> Form:
    """The running form's clock and operator (inside an `@admin_flow` function only)."""
    current = _FORM.get()
    if current is None:
        raise RuntimeError("form() is only available inside an @admin_flow function")
    return current


def admin_flow(name: str, *, forget: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Any]:
    """Make the decorated function the dashboard form `name` (see the module's docstring)."""

    def decorate(fn: Callable[..., Any]) -> Any:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def run_form(*args: Any, **kwargs: Any) -> Any:
            if forget:
                from flows.forget_parameters import forget_parameters

                forget_parameters(*forget)
            operator = require_operator(signature.bind(*args, **kwargs).arguments.get("your_name"))
            today, now = resolve_now(None, None)
            token = _FORM.set(Form(today, now, operator))
            try:
                return fn(*args, **kwargs)
            finally:
                _FORM.reset(token)

        # A refused action (unknown reference, a date in the future) fails the run, which the admin
        # who pressed Run sees at once: no team email for that. A crash is still reported to the team.
        return flow(name=name, on_crashed=[notify_team_of_failure])(refusal_fails_run(run_form))

    return decorate


def value(v: Any) -> Any:
    """A dropdown's value (the enum's string), else `v`."""
    return v.value if isinstance(v, Enum) else v


@overload
def local(moment: datetime) -> datetime: ...
@overload
def local(moment: None) -> None: ...
def local(moment: datetime | None) -> datetime | None:
    """A date-time without an offset is the service's local time (`DRS_TIMEZONE`, Europe/London),
    the same rule as `drs session schedule --start`."""
    if moment is None or moment.tzinfo is not None:
        return moment
    from zoneinfo import ZoneInfo

    from tasks.settings import get_settings

    return moment.replace(tzinfo=ZoneInfo(get_settings().timezone))
