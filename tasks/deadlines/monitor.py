"""The deadline sweep: refresh stale clocks, mark missed ones, decide alerts, queue them once.

Plain functions (no Prefect): `flows.monitor` wraps them as tasks, and `drs monitor` without a
server calls `run_monitor` directly. Every step reads what is due from the database, so a
catch-up run after downtime does the right thing, and every email is an outbox row with a unique
key, so running twice a day (or re-running a failed run) never sends anything twice.

1. `refresh_clocks` — recompute only the cases whose `rules_version` differs from
   `CURRENT_RULES_VERSION`, or every open case when the holiday digest in `meta` changed.
2. `mark_missed` — one UPDATE: open clocks whose target is before today become `missed`.
3. `watched_clocks` — ONE indexed query over `clocks (state, target)` joined to cases and LAs.
4. `queue_alerts` — `models.domain.alerts.alerts_due` decides; outbox rows keyed
   `alert:<case_ref>:<clock>:<kind>:<target>:<audience>`.
5. `tasks.deadlines.digest.queue_digest` — the team's digest, key `digest:<date>`.
6. `certificate_work` / `issue_automatic` — declined certificates issued automatically, or held
   for approval when the LA's `certificate_needs_approval` is set.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import aliased

from models.db import Case, Certificate, Clock, LocalAuthority, Meta
from models.domain.alerts import (
    DEFAULT_POLICY,
    FAMILY,
    LA,
    TEAM,
    Alert,
    AlertPolicy,
    WatchedClock,
    alert_key,
    alerts_due,
    digest_rows,
    not_before_for,
)
from models.domain.clocks import CaseFacts, certificate_needed
from models.domain.rules import CURRENT_RULES_VERSION
from tasks.db import unit_of_work
from tasks.settings import get_settings

ACTOR = "flow:deadline-monitor"
HOLIDAYS_META_KEY = "holidays_version"
RULES_META_KEY = "rules_version"
POLICY_FILE = "alert-policy.json"


@dataclass
class MonitorSummary:
    """What one run did (the JSON of `drs monitor --json`)."""

    today: str
    cases_recomputed: int = 0
    clocks_marked_missed: int = 0
    alerts: dict[str, int] = field(default_factory=dict)  # kind -> alerts decided today
    emails_queued: int = 0  # new outbox rows this run (0 on a second run the same day)
    certificates_issued: list[str] = field(default_factory=list)  # case refs
    awaiting_approval: list[str] = field(default_factory=list)
    certificates_refused: list[str] = field(default_factory=list)
    certificate_errors: list[str] = field(default_factory=list)
    digest_queued: bool = False
    digest_rows: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def load_policy() -> AlertPolicy:
    """The alert policy: defaults, with `$DRS_HOME/alert-policy.json` applied when it exists, e.g.
    `{"due_soon_wd": 3, "due_soon_wd_by_clock": {"certificate_due": 3}, "kinds": ["due-today", "missed"]}`.
    A bad file never stops the monitor: the last good version (or the defaults) is used and
    `tasks.deadlines.admin_files.check_admin_files` tells the team, naming the setting."""
    from tasks.deadlines.admin_files import read_policy

    return read_policy()[0]


# --- 1. stale clocks -------------------------------------------------------------------------------


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
        stmt = select(Case.id).where(Case.status != "closed", Case.anonymised_at.is_(None))
        if not holidays_changed:
            stmt = stmt.where((Case.rules_version.is_(None)) | (Case.rules_version != CURRENT_RULES_VERSION))
        ids = list(db.scalars(stmt.order_by(Case.id)))
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


# --- 2. missed ------------------------------------------------------------------------------------


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
    from tasks.deadlines.calendar_source import working_calendar

    calendar = working_calendar()
    for case in db.scalars(select(Case).where(Case.id.in_(ids))):
        recompute_clocks(db, case, today, now, calendar)
    db.flush()
    return len(ids)


def _within(db):
    """The caller's open unit of work (`db`), or a new one."""
    from contextlib import nullcontext

    return nullcontext(db) if db is not None else unit_of_work()


@dataclass
class SweepResult:
    """What `sweep` did, in one transaction."""

    reopened: int
    marked_missed: int
    clocks: list  # list[WatchedClock]
    alerts: list  # list[Alert]
    queued: int


def sweep(today: date, now: datetime, policy: AlertPolicy = DEFAULT_POLICY) -> SweepResult:
    """Steps 2-4 as ONE transaction: clocks marked missed are committed together with the alerts
    that follow from them, or not at all (a failure rolls both back; the next run does them)."""
    from tasks.deadlines.calendar_source import working_calendar

    calendar = working_calendar()
    with unit_of_work() as db:
        reopened = reopen_not_yet_missed(db, today, now)
        marked = _mark_missed(db, today)
        clocks = watched_clocks(today, policy, db=db)
        alerts = alerts_due(clocks, today, calendar, policy)
        queued = queue_alerts(alerts, now, policy, db=db)
        db.commit()
    return SweepResult(reopened, marked, clocks, alerts, queued)


# --- 3. the one query -----------------------------------------------------------------------------


def _needs_certificate(service: str, decision_type: str | None, sections) -> bool:
    return certificate_needed(
        CaseFacts(
            service=service,
            decision_type=decision_type,
            letter_sent_on=None,
            received_on=date.min,
            sections=tuple(sections or ()),
        )
    )


def watched_clocks(today: date, policy: AlertPolicy = DEFAULT_POLICY, db=None) -> list[WatchedClock]:
    """Open or missed clocks with a target from `missed_lookback_days` ago to `horizon_days` ahead,
    with their case's reference, LA and certificate state — one query using `(state, target)`."""
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
            Case.sections,
            Case.appeal_lodged,
            LocalAuthority.code,
            cert.state.label("cert_state"),
        )
        .join(Case, Case.id == Clock.case_id)
        .join(LocalAuthority, LocalAuthority.id == Case.la_id)
        .outerjoin(cert, and_(cert.case_id == Clock.case_id, cert.name == "certificate_due"))
        .where(
            Clock.state.in_(("open", "missed")),
            Clock.target >= today - timedelta(days=policy.missed_lookback_days),
            Clock.target <= today + timedelta(days=policy.horizon_days),
            Case.status != "closed",
        )
        .order_by(Clock.target, Case.ref, Clock.name)
    )
    out = []
    with _within(db) as db:  # the caller's transaction, or one of its own
        for r in db.execute(stmt):
            settled = (
                r.cert_state in ("met", "not_applicable")
                if r.cert_state is not None
                else not _needs_certificate(r.service, r.decision_type, r.sections)
            )
            out.append(
                WatchedClock(
                    case_ref=r.ref,
                    la_code=r.code,
                    name=r.name,
                    due=r.due,
                    target=r.target,
                    state=r.state,
                    owner=r.owner,
                    level=r.level,
                    started_on=r.started_on,
                    note=r.note or "",
                    case_id=r.case_id,
                    certificate_settled=settled,
                    appeal_lodged=bool(r.appeal_lodged),
                )
            )
    return out


# --- 4. alerts ------------------------------------------------------------------------------------


def queue_alerts(alerts: list[Alert], now: datetime, policy: AlertPolicy = DEFAULT_POLICY, db=None) -> int:
    """Queue each alert to each of its audiences once; returns how many outbox rows are new.
    With `db`, the rows join the caller's transaction (the caller commits); without, one of its own."""
    own = db is None
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.deadlines.emails import LaContext, family_reminder, la_alert, team_alert
    from tasks.mail.outbox import queue_email

    settings = get_settings()
    calendar = working_calendar()
    local_now = now.astimezone(ZoneInfo(settings.timezone))
    queued = 0
    with _within(db) as db:
        case_ids = {a.case_id for a in alerts if a.case_id is not None and (FAMILY in a.audiences or LA in a.audiences)}
        cases = {c.id: c for c in db.scalars(select(Case).where(Case.id.in_(case_ids)))} if case_ids else {}
        for alert in alerts:
            for audience in alert.audiences:
                case = cases.get(alert.case_id)
                if audience == TEAM:
                    la_emailed = bool(case and case.local_authority and case.local_authority.sen_team_email)
                    to, (subject, text, html) = (
                        settings.team_email,
                        team_alert(alert, la_emailed or LA not in alert.audiences),
                    )
                elif audience == LA:
                    la = case.local_authority if case else None
                    if la is None or not la.sen_team_email:
                        continue  # the team's copy says the LA was to be told; the digest lists it
                    ctx = LaContext(
                        la.name, case.child_name if case.consent_to_contact_la else None, case.decision_letter_sent_on
                    )
                    to, (subject, text, html) = la.sen_team_email, la_alert(alert, ctx)
                else:
                    if case is None or not case.requester_email:
                        continue
                    to, (subject, text, html) = case.requester_email, family_reminder(alert, case.requester_name)
                row = queue_email(
                    db,
                    key=alert_key(alert, audience),
                    kind=f"alert-{alert.kind}",
                    to=to,
                    subject=subject,
                    text=text,
                    html=html,
                    now=now,
                    case_id=alert.case_id,
                    not_before=not_before_for(audience, local_now, calendar, policy),
                )
                queued += row is not None
        if own:
            db.commit()
    return queued


# --- 6. certificates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateWork:
    case_id: int
    case_ref: str
    type: str
    trigger_on: str  # ISO date (plain values across task boundaries)
    needs_approval: bool


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
            if not _needs_certificate(case.service, case.decision_type, case.sections):
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


def certificate_work(today: date) -> list[CertificateWork]:
    """Declined certificates due and not yet issued, held or refused: one query over open/missed
    `certificate_due` clocks (their note is the certificate type, `started_on` the trigger date)."""
    held = exists().where(
        Certificate.case_id == Clock.case_id,
        Certificate.type == Clock.note,
        Certificate.trigger_on == Clock.started_on,
        Certificate.status.in_(("issued", "refused")),
    )
    stmt = (
        select(Clock.case_id, Case.ref, Clock.note, Clock.started_on, LocalAuthority.certificate_needs_approval)
        .join(Case, Case.id == Clock.case_id)
        .join(LocalAuthority, LocalAuthority.id == Case.la_id)
        .where(
            Clock.state.in_(("open", "missed")),
            Clock.name == "certificate_due",
            Clock.note == "declined",
            Clock.started_on <= today,
            Case.status != "closed",
            ~held,
        )
        .order_by(Clock.started_on, Case.ref)
    )
    with unit_of_work() as db:
        return [
            CertificateWork(r.case_id, r.ref, r.note, r.started_on.isoformat(), bool(r.certificate_needs_approval))
            for r in db.execute(stmt)
        ]


def issue_one(
    case_id: int,
    today: date,
    now: datetime,
    *,
    actor: str = ACTOR,
    cert_type: str | None = None,
    approval_note: str | None = None,
) -> tuple[str, str]:
    """Issue one certificate in its own transaction; returns (case_ref, number or error message)."""
    from tasks.cases.casework import CaseworkError
    from tasks.certificates.issue import issue

    with unit_of_work() as db:
        case = db.get(Case, case_id, with_for_update=db.get_bind().dialect.name == "postgresql")
        ref = case.ref
        try:
            issued = issue(
                db, case, today, today=today, now=now, actor=actor, cert_type=cert_type, approval_note=approval_note
            )
        except CaseworkError as exc:
            return ref, f"error: {exc}"
        except Exception as exc:  # one certificate's unforeseen failure must not stop the run
            db.rollback()
            return ref, f"error: {ref}: the certificate could not be issued ({type(exc).__name__})"
        db.commit()
        return ref, issued.number


def hold(work: list[CertificateWork], now: datetime) -> None:
    """Record the certificates that wait for approval (status `awaiting_approval`)."""
    from tasks.certificates.issue import hold_for_approval

    with unit_of_work() as db:
        for item in work:
            hold_for_approval(db, db.get(Case, item.case_id), item.type, date.fromisoformat(item.trigger_on), now)
        db.commit()


def refuse_one(item: CertificateWork, now: datetime, note: str) -> None:
    from tasks.certificates.issue import refuse

    with unit_of_work() as db:
        refuse(
            db,
            db.get(Case, item.case_id),
            item.type,
            date.fromisoformat(item.trigger_on),
            now,
            note,
            "dashboard:approval",
        )
        db.commit()


def issue_automatic(
    work: list[CertificateWork], today: date, now: datetime, summary: MonitorSummary
) -> list[CertificateWork]:
    """Issue what needs no approval; hold the rest. Returns the items awaiting approval."""
    waiting = [w for w in work if w.needs_approval]
    for item in work:
        if item.needs_approval:
            continue
        ref, result = issue_one(item.case_id, today, now)
        if result.startswith("error"):
            summary.certificate_errors.append(result)
        else:
            summary.certificates_issued.append(ref)
    hold(waiting, now)
    summary.awaiting_approval = [w.case_ref for w in waiting]
    return waiting


# --- the whole run, without Prefect -----------------------------------------------------------------


def run_monitor(today: date, now: datetime, policy: AlertPolicy | None = None) -> dict:
    """The monitor as plain functions (the `drs monitor` path with no Prefect server): certificates
    needing approval are held and reported as awaiting approval."""
    from tasks.deadlines.admin_files import check_admin_files
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.deadlines.digest import queue_digest

    check_admin_files(now)  # a wrong admin file: the team is told once a day, the last good one is used
    policy = policy or load_policy()

    summary = MonitorSummary(today=today.isoformat())
    summary.cases_recomputed = refresh_clocks(today, now)
    record_web_form_declines(today, now)
    issue_automatic(certificate_work(today), today, now, summary)
    swept = sweep(today, now, policy)
    summary.clocks_marked_missed = swept.marked_missed
    summary.alerts = dict(Counter(a.kind for a in swept.alerts))
    summary.emails_queued = swept.queued
    calendar = working_calendar()
    rows = digest_rows(swept.clocks, today, calendar, policy)
    summary.digest_rows = len(rows)
    summary.digest_queued = queue_digest(today, now, rows, policy=policy)
    return summary.as_dict()
