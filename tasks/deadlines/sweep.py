"""The deadline sweep: mark missed clocks, decide today's alerts, queue each once — one transaction.

1. `reopen_not_yet_missed` — clocks marked missed by a later-dated run are recomputed for today.
2. `_mark_missed` — one UPDATE: open clocks whose target is before today become `missed`.
3. `watched_clocks` — ONE indexed query over `clocks (state, target)` joined to cases and LAs,
   narrowed to the clocks that can alert or be in the digest today (`tasks.deadlines.window`).
4. `tasks.deadlines.alert_queue.queue_alerts` — `models.domain.alerts.alerts_due` decides;
   outbox rows keyed `alert:<case_ref>:<clock>:<kind>:<target>:<audience>`; keys already queued are
   found set-based and only the new alerts are rendered (issue 14).

Every step reads what is due from the database, so a catch-up run after downtime does the right
thing, and every email is an outbox row with a unique key, so running twice a day (or re-running a
failed run) never sends anything twice.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache
from types import MappingProxyType

from sqlalchemy import String, and_, select, type_coerce, update
from sqlalchemy.orm import aliased

from models.db import Case, Clock, LocalAuthority
from models.domain.alerts import DEFAULT_POLICY, AlertPolicy, WatchedClock, alerts_due
from models.domain.calendar import WorkingCalendar
from models.domain.digest import DigestRow, digest_rows
from tasks.db import unit_of_work
from tasks.deadlines import alert_queue
from tasks.deadlines.due_certificates import needs_certificate
from tasks.deadlines.window import alert_window, missed_alert_queued
from tasks.gc_pauses import gc_paused


class RunCalendar(WorkingCalendar):
    """One run's working calendar: the same answers, with `working_days_between` remembered —
    a day's sweep asks it for tens of thousands of clocks but only ≈ 100 distinct target dates."""

    __slots__ = ("_between",)

    def __init__(self, calendar: WorkingCalendar) -> None:
        super().__init__(calendar.holidays)
        self._between: dict[tuple[date, date], int] = {}

    def working_days_between(self, a: date, b: date) -> int:
        key = (a, b)
        if key not in self._between:
            self._between[key] = super().working_days_between(a, b)
        return self._between[key]


def run_calendar() -> RunCalendar:
    """`working_calendar()` for one run of the sweep (see `RunCalendar`)."""
    from tasks.deadlines.calendar_source import working_calendar

    return RunCalendar(working_calendar())


def load_policy() -> AlertPolicy:
    """The alert policy: defaults, with `$DRS_HOME/alert-policy.json` applied when it exists, e.g.
    `{"due_soon_wd": 3, "due_soon_wd_by_clock": {"certificate_due": 3}, "kinds": ["due-today", "missed"]}`.
    A bad file never stops the monitor: the last good version (or the defaults) is used and
    `tasks.deadlines.admin_files.check_admin_files` tells the team, naming the setting."""
    from tasks.deadlines.admin_files import read_policy

    return read_policy()[0]


def _mark_missed(db, today: date) -> int:
    result = db.execute(
        update(Clock)
        .where(Clock.state == "open", Clock.target < today)
        .values(state="missed")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def mark_missed(today: date) -> int:
    """Open clocks whose working-day target is before `today` become `missed` (one UPDATE, committed
    on its own; the monitor itself uses `sweep`, which commits it together with its alerts)."""
    with unit_of_work() as db:
        count = _mark_missed(db, today)
        db.commit()
        return count


def reopen_not_yet_missed(db, today: date, now: datetime) -> int:
    """Cases with a clock marked `missed` whose target is not before `today` (marked by a run dated
    later than this one, or left by a failed far-future run) are recomputed for `today`, so the
    database says what `drs case show` says. Returns how many cases were recomputed."""
    from tasks.cases.casework import recompute_clocks
    from tasks.deadlines.calendar_source import working_calendar

    ids = sorted(
        set(
            db.scalars(
                select(Clock.case_id)
                .join(Case, Case.id == Clock.case_id)
                .where(Clock.state == "missed", Clock.target >= today, Case.anonymised_at.is_(None))
            )
        )
    )
    if not ids:
        return 0
    calendar = working_calendar()
    for case in db.scalars(select(Case).where(Case.id.in_(ids))):
        recompute_clocks(db, case, today, now, calendar)
    db.flush()
    return len(ids)


@dataclass(frozen=True)
class SweepResult:
    """What `sweep` did, in one transaction, and the digest's rows from the same clocks."""

    reopened: int
    marked_missed: int
    alerts: Mapping[str, int]  # kind -> alerts decided (queued now or on an earlier run)
    queued: int
    digest: tuple[DigestRow, ...]  # the clocks due in the next working days and missed ones


def sweep(today: date, now: datetime, policy: AlertPolicy = DEFAULT_POLICY) -> SweepResult:
    """Mark missed, decide and queue alerts as ONE transaction: clocks marked missed are committed
    together with the alerts that follow from them, or not at all (a failure rolls both back; the
    next run does them). The digest's rows (`models.domain.digest.digest_rows`) are decided from the
    same clocks: one step, so that tens of thousands of clocks never cross a step's boundary (as a
    Prefect task's result every element of a collection is linked to the task run, issue 14)."""
    with gc_paused():  # its clocks and alerts are freed before the collector runs again
        return _sweep(today, now, policy, run_calendar())


def _sweep(today: date, now: datetime, policy: AlertPolicy, calendar: WorkingCalendar) -> SweepResult:
    with unit_of_work() as db:
        reopened = reopen_not_yet_missed(db, today, now)
        marked = _mark_missed(db, today)
        clocks, known = _watched_and_queued(today, policy, db, calendar)
        alerts = alerts_due(clocks, today, calendar, policy)
        db.info[alert_queue.KNOWN_QUEUED] = known  # read by queue_alerts: not looked up again
        queued = alert_queue.queue_alerts(alerts, now, policy, db=db)
        db.commit()
    kinds = MappingProxyType(dict(Counter(a.kind for a in alerts)))
    return SweepResult(reopened, marked, kinds, queued, tuple(digest_rows(clocks, today, calendar, policy)))


def watched_clocks(
    today: date, policy: AlertPolicy = DEFAULT_POLICY, db=None, calendar: WorkingCalendar | None = None
) -> list[WatchedClock]:
    """The clocks that can alert or be in the digest on `today` (`tasks.deadlines.window`: open or
    missed, a target from `missed_lookback_days` ago to `horizon_days` ahead, narrowed to what the
    rules can act on), with their case's reference, LA and certificate state — one query using
    `(state, target)`."""
    with nullcontext(db) if db is not None else unit_of_work() as session:  # the caller's transaction, or its own
        return _watched_and_queued(today, policy, session, calendar or run_calendar())[0]


def _watched_and_queued(
    today: date, policy: AlertPolicy, db, calendar: WorkingCalendar
) -> tuple[list[WatchedClock], frozenset[str]]:
    """`watched_clocks`, and the outbox keys of the `missed` alerts of those clocks already queued
    (`tasks.deadlines.window.missed_alert_queued`), from the same query."""
    window = alert_window(today, calendar, policy)
    cert = aliased(Clock)
    stmt = (
        select(
            Clock.case_id,
            Clock.name,
            Clock.due,
            Clock.target,
            Clock.state,
            Clock.owner,
            Clock.level,
            Clock.started_on,
            Clock.note,
            Case.ref,
            Case.service,
            Case.decision_type,
            type_coerce(Case.sections, String),  # decoded only when needed (`_settled_without_clock`)
            Case.appeal_lodged,
            LocalAuthority.code,
            cert.state.label("cert_state"),
            *missed_alert_queued(today),
        )
        .join(Case, Case.id == Clock.case_id)
        .join(LocalAuthority, LocalAuthority.id == Case.la_id)
        .outerjoin(cert, and_(cert.case_id == Clock.case_id, cert.name == "certificate_due"))
        .where(window.where(today), Case.status != "closed")
        .order_by(Clock.target, Case.ref, Clock.name)
    )
    rows = db.connection().execute(stmt).all()  # Core rows: no ORM row handling
    known = frozenset(key for r in rows for key in r[16:] if key is not None)
    return [_watched(r) for r in rows], known


@lru_cache(maxsize=4096)
def _settled_without_clock(service: str, decision_type: str | None, sections: str | tuple) -> bool:
    """A case with no `certificate_due` clock: settled when it needs no certificate. `sections` as
    the driver gives the JSON column: its text (SQLite; decoded here, once per distinct value) or
    the decoded list (PostgreSQL, as a tuple)."""
    values = json.loads(sections) if isinstance(sections, str) else sections
    return not needs_certificate(service, decision_type, tuple(values or ()))


#: `WatchedClock`'s fields in order: a row becomes one by filling its `__dict__` (`_watched`).
_FIELDS = tuple(f.name for f in fields(WatchedClock))
if _FIELDS != (
    "case_ref", "la_code", "name", "due", "target", "state", "owner", "level", "started_on", "note",
    "case_id", "certificate_settled", "appeal_lodged",
) or hasattr(WatchedClock, "__slots__") or hasattr(WatchedClock, "__post_init__"):  # fmt: skip
    raise TypeError("WatchedClock changed: update tasks.deadlines.sweep._watched")
_new = object.__new__


def _watched(r) -> WatchedClock:
    """A row of `watched_clocks` (its columns in order) as the rules' `WatchedClock`.

    Filled in as the dataclass's own `__init__` would (it only sets the fields), without its
    frozen-dataclass `object.__setattr__` per field: ≈ 3× cheaper for the 41,000 clocks of a
    national day (issue 14); the result is equal, hashes and compares the same (the module-level
    check stops this if the class ever gains slots, a `__post_init__` or other fields)."""
    case_id, name, due, target, state, owner, level, started_on, note, ref, service, decision, sections = r[:13]
    appeal_lodged, la_code, cert_state = r[13:16]
    settled = (
        cert_state in ("met", "not_applicable")
        if cert_state is not None
        else _settled_without_clock(service, decision, sections if isinstance(sections, str) else tuple(sections or ()))
    )
    clock = _new(WatchedClock)
    clock.__dict__.update(
        zip(
            _FIELDS,
            (
                ref,
                la_code,
                name,
                due,
                target,
                state,
                owner,
                level,
                started_on,
                note or "",
                case_id,
                settled,
                bool(appeal_lodged),
            ),
        )
    )
    return clock
