"""The monitor's first step: clocks brought up to date before anything is decided.

1. `refresh_clocks` — recompute only the cases whose `rules_version` differs from
   `CURRENT_RULES_VERSION`, or every open case when the holiday digest in `meta` changed.
2. `record_web_form_declines` — a family's "no" to mediation on the web form becomes the
   `mediation-declined` event that starts the certificate clock.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, exists, or_, select

from models.db import Case, Clock, Meta
from models.domain.rules import CURRENT_RULES_VERSION
from tasks.db import unit_of_work
from tasks.deadlines.due_certificates import ACTOR, needs_certificate

HOLIDAYS_META_KEY = "holidays_version"
RULES_META_KEY = "rules_version"


def refresh_clocks(today: date, now: datetime) -> int:
    """Recompute clocks computed under another rule set, or all open cases when the holidays changed.

    Returns how many cases were recomputed. Works in batches, one transaction each.
    """
    from tasks.deadlines.calendar_source import holidays_version, working_calendar
    from tasks.deadlines.recompute import recompute_cases

    calendar = working_calendar()
    version = holidays_version()
    with unit_of_work() as db:
        stored = db.get(Meta, HOLIDAYS_META_KEY)
        holidays_changed = stored is None or stored.value != version
        ids = sorted(db.scalars(select(Case.id).where(_to_refresh(holidays_changed), Case.anonymised_at.is_(None))))
    recompute_cases(ids, today, now, calendar)  # set-based, a batch a transaction (tasks.deadlines.recompute)
    with unit_of_work() as db:
        for key, value in ((HOLIDAYS_META_KEY, version), (RULES_META_KEY, CURRENT_RULES_VERSION)):
            row = db.get(Meta, key)
            if row is None:
                db.add(Meta(key=key, value=value))
            else:
                row.value = value
        db.commit()
    return len(ids)


def _to_refresh(holidays_changed: bool):
    """The cases to recompute: every case not closed when the holidays changed; else those not
    closed computed under another rule set — `rules_version` NULL, before or after the current one,
    which the index `ix_cases_rules_version` answers (migration 0019; `!=` uses no index): on an
    ordinary day none, found without reading the `cases` table (issue 14). The ids are sorted in
    Python: with `ORDER BY id` SQLite preferred to scan every case in id order."""
    if holidays_changed:
        return Case.status != "closed"
    version = Case.rules_version
    stale = or_(version.is_(None), version < CURRENT_RULES_VERSION, version > CURRENT_RULES_VERSION)
    return and_(stale, Case.status != "closed")


def record_web_form_declines(today: date, now: datetime) -> list[str]:
    """Cases whose family said "no" to mediation on the web form and have no certificate trigger yet:
    record `mediation-declined` on the date the referral was received. Returns the case refs."""
    from tasks.cases.casework import record_event

    has_trigger = exists().where(Clock.case_id == Case.id, Clock.name == "certificate_due")
    done = []
    with unit_of_work() as db:
        cases = db.scalars(
            select(Case).where(
                Case.wants_mediation == "no",
                Case.service == "mediation",
                Case.status.in_(("new", "information-given")),
                ~has_trigger,
                Case.anonymised_at.is_(None),
            )
        )
        for case in cases:
            if not needs_certificate(case.service, case.decision_type, case.sections):
                continue
            on = min(case.received_on, today)
            record_event(
                db,
                case,
                "mediation-declined",
                on,
                now=now,
                today=today,
                recorded_by=ACTOR,
                note="declined on the web form",
            )
            done.append(case.ref)
        db.commit()
    return done
