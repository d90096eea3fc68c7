"""Synthetic data for the benchmark: a national-scale database and intake drops, deterministic by seed.

    .venv/bin/python -m bench.generate --cases 100000 --out /tmp/drs-bench/data [--seed 1]

Everything is fictional ("Family 000123", `@example.org` addresses, LAs called "Benchtown 001")
and written straight to the database with SQLAlchemy Core bulk inserts (executemany), in batches:

- 150 local authorities (ONS-style codes, a policy row each), 40 mediators;
- cases received over the 50 months up to `AS_OF` (≈ 20,000 a month at a million cases), ≈ 25 %
  not closed (mostly the last year's), in every status of `vocabulary.CASE_STATUSES`, each with
  the events of a plausible path to that status, its referral row and — for cases not closed —
  its acknowledgement (and request-to-the-LA) outbox rows;
- clocks computed by the project's own engine (`compute_clocks`, as of `AS_OF`, with the
  calendar `tasks.deadlines.calendar_source.working_calendar()` builds) and the status by `case_status`;
- mediation sessions (booked ahead for `mediation-arranged`, held for concluded cases) and
  expense claims after held sessions;
- `meta` rows (holiday digest, rules version) as the monitor leaves them, so the next monitor run
  recomputes nothing unless the holidays change; then (`settle`, from the command line) the
  project's own monitor runs for `AS_OF` and its emails are marked sent, so the benchmark's
  monitor run is an ordinary next-day sweep.

`write_referral_files` writes an intake drop (JSON and CSV, same records) in which a share of the
forms are near-identical (same child, LA and decision letter, different form ids).
`add_pending_emails` queues N realistic outbox emails for the delivery benchmark.

The process needs `DRS_HOME` (for the holiday files) set before `tasks` is imported; `bench.run`
sets it. Nothing here reads the real clock.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, event, insert
from sqlalchemy.engine import Engine

from models.domain.referral_rules import FIELDS as REFERRAL_FIELDS

AS_OF = date(2026, 11, 30)  # the data is as the evening of this day (a Monday) left it
RUN_DAY = date(2026, 12, 1)  # the benchmark's "today": the monitor's next daily run, the intake day
MONTHS = 50
TZ = ZoneInfo("Europe/London")
DECISIONS = ("refuse_assessment", "refuse_plan", "plan_contents", "refuse_reassessment", "refuse_amend", "cease_plan")
DECISION_WEIGHTS = (35, 15, 30, 5, 10, 5)
ROLES = ("parent", "parent", "parent", "carer", "young_person", "professional")
OPEN_STATUSES = (
    "new",
    "information-given",
    "mediation-requested",
    "mediation-arranged",
    "certificate-pending",
    "certificate-issued",
    "mediation-concluded",
    "withdrawn",
)
OPEN_WEIGHTS = (4, 14, 14, 10, 10, 22, 16, 10)
CLAIM_CATEGORIES = ("mileage", "public_transport", "parking", "childcare", "meal")
BATCH = 10_000


def la_rows(n: int = 150) -> list[dict]:
    """`n` fictional LAs with ONS-style codes (E06/E08/E09/E10 + 6 digits) and one alias each."""
    stamp = datetime(2022, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        code = f"{('E06', 'E08', 'E09', 'E10')[i % 4]}{i // 4 + 1:06d}"
        out.append(
            {
                "id": i + 1,
                "code": code,
                "name": f"Benchtown {i + 1:03d}",
                "aliases": [f"BT{i + 1:03d}"],
                "sen_team_email": f"sen@la{i + 1:03d}.example.org",
                "finance_email": f"finance@la{i + 1:03d}.example.org",
                "contract_email": f"contracts@la{i + 1:03d}.example.org",
                "certificate_needs_approval": False,
                "created_at": stamp,
            }
        )
    return out


def sqlite_fast(engine: Engine) -> None:
    """Bulk-load settings for a SQLite file that is a re-creatable cache (no fsync per batch)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("PRAGMA journal_mode=MEMORY")
        cur.execute("PRAGMA cache_size=-200000")
        cur.close()


def _at(d: date, hour: int, minute: int = 0) -> datetime:
    """Local `hour:minute` on `d` (Europe/London) as an aware UTC datetime."""
    return datetime.combine(d, dtime(hour, minute), TZ).astimezone(UTC)


@dataclass
class _Plan:
    """One case as the generator plans it: the row, its events and its session."""

    case: dict
    events: list[tuple]  # (event, on, health, cert_type, items)
    session: dict | None
    acknowledged_on: date | None
    la_informed_on: date | None


class _CaseMaker:
    def __init__(self, seed: int, n_las: int, as_of: date):
        self.rng = random.Random(seed)
        self.n_las = n_las
        self.as_of = as_of
        self.start = as_of - timedelta(days=int(MONTHS * 30.44))
        self.span = (as_of - self.start).days

    def received(self, i: int, n: int) -> date:
        # cases arrive evenly over the period; the i-th is received on day ≈ i/n of it (sorted refs)
        return self.start + timedelta(days=min(self.span, int(self.span * (i + self.rng.random()) / n)))

    def status(self, received_on: date) -> str:
        age = (self.as_of - received_on).days
        open_p = 0.93 if age <= 380 else 0.02
        if self.rng.random() >= open_p:
            return "closed"
        if age <= 10:
            return self.rng.choice(("new", "information-given"))
        return self.rng.choices(OPEN_STATUSES, OPEN_WEIGHTS)[0]

    def plan(self, case_id: int, ref: str, received_on: date, stamp: datetime) -> _Plan:
        rng = self.rng
        service = "drs" if rng.random() < 0.1 else "mediation"
        decision = rng.choices(DECISIONS, DECISION_WEIGHTS)[0]
        sections = sorted(rng.sample(("B", "F", "I"), rng.randint(1, 3))) if decision == "plan_contents" else []
        letter = received_on - timedelta(days=rng.randint(3, 50))
        dob = received_on - timedelta(days=rng.randint(3 * 365, 20 * 365))
        role = rng.choice(ROLES)
        consent = role == "professional" or rng.random() < 0.8
        status = self.status(received_on)
        events: list[tuple] = []
        session = None
        as_of = self.as_of

        def day(after: date, lo: int, hi: int) -> date:
            return min(as_of, after + timedelta(days=rng.randint(lo, hi)))

        d = received_on
        info = day(d, 0, 3)
        final = status
        if status == "closed":
            final = rng.choices(
                ("information-given", "certificate-issued", "mediation-concluded", "withdrawn"), (20, 40, 30, 10)
            )[0]
        if service == "drs" and final not in ("new", "information-given", "withdrawn"):
            final = "information-given"
        wants = "undecided"
        if final != "new":
            events.append(("information-given", info, False, None, ()))
        if final in ("mediation-requested", "mediation-arranged", "mediation-concluded") or (
            final in ("certificate-pending", "certificate-issued") and rng.random() < 0.15
        ):
            wants = "yes"
            req = day(info, 0, 7)
            events.append(("mediation-requested", req, False, None, ()))
            rec = day(req, 0, 3)
            health = rng.random() < 0.1
            events.append(("la-received-request", rec, health, None, ()))
            if health:
                events.append(("icb-received-request", day(rec, 0, 2), False, None, ()))
            if final in ("certificate-pending", "certificate-issued"):
                trig = day(rec, 5, 25)
                events.append(("la-cannot-arrange", trig, False, None, ()))
                if final == "certificate-issued":
                    events.append(("certificate-issued", day(trig, 0, 3), False, "deemed", ()))
            elif final == "mediation-arranged":
                booked = max(rec, as_of - timedelta(days=rng.randint(0, 12)))
                start = as_of + timedelta(days=rng.randint(1, 25))
                session = {"start": start, "booked": booked, "status": "scheduled"}
            elif final == "mediation-concluded":
                held = day(rec, 10, 28)
                session = {"start": held, "booked": day(rec, 0, 5), "status": "held"}
                outcome = rng.choice(("agreed", "partial", "not-agreed"))
                session["outcome"] = outcome
                events.append(("mediation-concluded", held, False, None, ()))
                if outcome != "not-agreed":
                    items = tuple(
                        rng.sample(
                            ("assess", "issue-plan", "amend-plan", "reassess", "continue-plan", "other"),
                            rng.randint(1, 2),
                        )
                    )
                    events.append(("agreement-reached", held, False, None, items))
                if status == "closed" or rng.random() < 0.5:
                    events.append(("certificate-issued", day(held, 0, 3), False, "after-mediation", ()))
        elif final == "certificate-pending" and rng.random() < 0.9:
            # waiting for the adviser after the LA could not arrange mediation (deemed certificate);
            # a declined one is issued by the monitor the same day, so only today's declines wait
            wants = "yes"
            events.append(("mediation-requested", day(info, 0, 7), False, None, ()))
            rec = day(events[-1][1], 0, 3)
            events.append(("la-received-request", rec, False, None, ()))
            events.append(("la-cannot-arrange", day(rec, 5, 25), False, None, ()))
        elif final in ("certificate-pending", "certificate-issued"):
            wants = "no"
            trig = as_of if final == "certificate-pending" else day(info, 0, 10)
            events.append(("mediation-declined", trig, False, None, ()))
            if final == "certificate-issued":
                events.append(("certificate-issued", day(trig, 0, 3), False, "declined", ()))
        elif final == "withdrawn":
            events.append(("withdrawn", day(info, 1, 30), False, None, ()))
        if status == "closed":
            last = max((e[1] for e in events), default=received_on)
            events.append(("closed", day(last, 20, 120), False, None, ()))
        n = case_id
        case = {
            "id": case_id,
            "ref": ref,
            "service": service,
            "status": status,
            "la_id": rng.randint(1, self.n_las),
            "received_on": received_on,
            "requester_role": role,
            "requester_name": f"Family {n:07d}",
            "requester_email": f"family{n:07d}@example.org",
            "requester_phone": f"0700 {n % 1000000:06d}",
            "requester_postcode": "ZZ99 9ZZ",
            "child_name": f"Child {n:07d}",
            "child_date_of_birth": dob,
            "decision_type": decision if service == "mediation" or rng.random() < 0.5 else None,
            "decision_letter_sent_on": letter,
            "sections": sections,
            "health_issues": rng.random() < 0.15,
            "social_care_issues": rng.random() < 0.1,
            "wants_mediation": wants,
            "consent_to_contact_la": consent,
            "notes": None,
            "flags": [],
            "appeal_lodged": False,
            "created_at": stamp,
            "updated_at": stamp,
        }
        if case["decision_type"] != "plan_contents":
            case["sections"] = []
        open_case = status != "closed"
        acknowledged = min(as_of, received_on + timedelta(days=rng.randint(0, 1))) if open_case else None
        informed = None
        if open_case and wants == "yes" and consent:
            informed = next(e[1] for e in events if e[0] == "mediation-requested")
        return _Plan(case, events, session, acknowledged, informed)


def generate_cases(
    url: str, n_cases: int, *, seed: int = 1, n_las: int = 150, as_of: date = AS_OF, progress: bool = False
) -> dict:
    """Fill the (migrated, empty) database at `url`; returns counts by table and by status."""
    from models.db import (
        Case,
        CaseEvent,
        Certificate,
        Clock,
        ExpenseClaim,
        LaPolicy,
        LocalAuthority,
        MediationSession,
        Mediator,
        Meta,
        OutboxEmail,
        Referral,
    )
    from models.domain.clocks import CaseFacts, Event, NextSession, compute_clocks
    from models.domain.rules import CURRENT_RULES_VERSION
    from models.domain.status import case_status
    from tasks.deadlines.calendar_source import holidays_version, working_calendar

    calendar = working_calendar()
    engine = create_engine(url)
    sqlite_fast(engine)
    stamp = _at(as_of, 18)
    maker = _CaseMaker(seed, n_las, as_of)
    counts = {
        "cases": 0,
        "events": 0,
        "clocks": 0,
        "sessions": 0,
        "claims": 0,
        "outbox": 0,
        "referrals": 0,
        "certificates": 0,
    }
    by_status: dict[str, int] = {}
    open_clocks = 0
    with engine.begin() as conn:
        conn.execute(insert(LocalAuthority.__table__), la_rows(n_las))
        conn.execute(
            insert(LaPolicy.__table__),
            [
                {
                    "la_id": i + 1,
                    "effective_from": date(2014, 9, 1),
                    "mileage_rate_pence": 45,
                    "receipt_threshold_pence": 1000,
                    "claim_window_days": 90,
                    "categories": list(CLAIM_CATEGORIES),
                }
                for i in range(n_las)
            ],
        )
        conn.execute(
            insert(Mediator.__table__),
            [
                {
                    "id": i + 1,
                    "name": f"Mediator {i + 1:02d}",
                    "email": f"mediator{i + 1:02d}@example.org",
                    "active": True,
                    "created_at": stamp,
                }
                for i in range(40)
            ],
        )
    per_year: dict[int, int] = {}
    session_id = claim_no = cert_no = 0
    started = time.perf_counter()
    for lo in range(0, n_cases, BATCH):
        cases, events, clocks, sessions, claims, outbox, referrals, certificates = [], [], [], [], [], [], [], []
        for i in range(lo, min(n_cases, lo + BATCH)):
            received_on = maker.received(i, n_cases)
            per_year[received_on.year] = per_year.get(received_on.year, 0) + 1
            ref = f"DRS-{received_on.year}-{per_year[received_on.year]:05d}"
            p = maker.plan(i + 1, ref, received_on, stamp)
            case = p.case
            next_session = None
            if p.session is not None:
                session_id += 1
                s = p.session
                start_at = _at(s["start"], 10)
                sessions.append(
                    {
                        "id": session_id,
                        "case_id": case["id"],
                        "mediator_id": maker.rng.randint(1, 40),
                        "uid": f"bench-{session_id}@drs-flows",
                        "sequence": 0,
                        "start_at": start_at,
                        "end_at": start_at + timedelta(hours=3),
                        "venue": "Room 1, Bench House",
                        "status": s["status"],
                        "outcome": s.get("outcome"),
                        "outcome_on": s["start"] if s.get("outcome") else None,
                        "booked_at": _at(s["booked"], 11),
                        "updated_at": _at(s["booked"], 11),
                    }
                )
                if s["status"] == "scheduled":
                    next_session = NextSession(starts_on=s["start"], booked_on=s["booked"])
                else:
                    for _ in range(maker.rng.choice((0, 1, 1, 2))):
                        claim_no += 1
                        cat = maker.rng.choice(CLAIM_CATEGORIES)
                        miles = round(maker.rng.uniform(2, 60), 1) if cat == "mileage" else None
                        claims.append(
                            {
                                "claim_id": f"BENCH-CL-{claim_no:07d}",
                                "case_id": case["id"],
                                "session_id": session_id,
                                "session_date": s["start"],
                                "claimant_name": case["requester_name"],
                                "claimant_email": case["requester_email"],
                                "category": cat,
                                "miles": miles,
                                "rate_pence": 45 if miles else None,
                                "amount_pence": int(miles * 45) if miles else maker.rng.randint(300, 4000),
                                "receipt": maker.rng.random() < 0.7,
                                "description": "travel to the meeting",
                                "status": maker.rng.choice(("pending", "approved", "sent", "paid")),
                                "imported_at": _at(min(as_of, s["start"] + timedelta(days=5)), 9),
                                "updated_at": stamp,
                            }
                        )
            facts = CaseFacts(
                service=case["service"],
                decision_type=case["decision_type"],
                letter_sent_on=case["decision_letter_sent_on"],
                received_on=received_on,
                sections=tuple(case["sections"]),
                health_issues=case["health_issues"],
                events=tuple(Event(e[0], e[1], health=e[2], cert_type=e[3], items=e[4]) for e in p.events),
                next_session=next_session,
                appeal_lodged=False,
                acknowledged_on=p.acknowledged_on,
                la_informed_on=p.la_informed_on,
            )
            computed = compute_clocks(facts, calendar, as_of)
            case["status"] = case_status((e[0] for e in p.events), session_scheduled=next_session is not None)
            case["rules_version"] = CURRENT_RULES_VERSION
            by_status[case["status"]] = by_status.get(case["status"], 0) + 1
            cases.append(case)
            referrals.append(
                {
                    "form_id": f"BENCH-{case['id']:08d}",
                    "case_id": case["id"],
                    "submitted_at": _at(received_on, 9),
                    "source_file": "bench.json",
                    "linked": False,
                    "received_at": _at(received_on, 9, 5),
                }
            )
            trigger_on = None
            for name, on, health, cert_type, items in p.events:
                if name in ("mediation-declined", "withdrawn", "la-cannot-arrange", "mediation-concluded"):
                    trigger_on = on
                if name == "certificate-issued":
                    cert_no += 1
                    certificates.append(
                        {
                            "number": f"BENCH-C-{cert_no:08d}",
                            "case_id": case["id"],
                            "type": cert_type,
                            "trigger_on": trigger_on or on,
                            "issued_on": on,
                            "adviser": "Bench adviser",
                            "status": "issued",
                            "created_at": _at(on, 15),
                        }
                    )
                events.append(
                    {
                        "case_id": case["id"],
                        "event": name,
                        "on": on,
                        "health": health,
                        "cert_type": cert_type,
                        "items": list(items),
                        "recorded_at": _at(on, 12),
                        "recorded_by": "bench",
                    }
                )
            for name, c in computed.items():
                open_clocks += c.state == "open"
                clocks.append(
                    {
                        "case_id": case["id"],
                        "name": name,
                        "due": c.due,
                        "target": c.target,
                        "state": c.state,
                        "owner": c.owner,
                        "level": c.level,
                        "started_on": c.started_on,
                        "met_on": c.met_on,
                        "source": c.source[:120],
                        "note": c.note[:120],
                        "computed_at": stamp,
                    }
                )
            for kind, on in (("acknowledgement", p.acknowledged_on), ("la-mediation-request", p.la_informed_on)):
                if on is not None:
                    at = _at(on, 10)
                    outbox.append(
                        {
                            "key": f"{'ack' if kind == 'acknowledgement' else 'la-request'}:{case['ref']}",
                            "kind": kind,
                            "to_addr": case["requester_email"]
                            if kind == "acknowledgement"
                            else f"sen@la{case['la_id']:03d}.example.org",
                            "subject": f"Your referral {case['ref']}",
                            "body_text": "(sent)",
                            "body_html": None,
                            "case_id": case["id"],
                            "status": "sent",
                            "attempts": 1,
                            "next_attempt_at": at,
                            "created_at": at,
                            "sent_at": at,
                        }
                    )
        with engine.begin() as conn:
            for table, rows in (
                (Case, cases),
                (Referral, referrals),
                (CaseEvent, events),
                (Clock, clocks),
                (MediationSession, sessions),
                (ExpenseClaim, claims),
                (OutboxEmail, outbox),
                (Certificate, certificates),
            ):
                if rows:
                    conn.execute(insert(table.__table__), rows)
        for key, rows in (
            ("cases", cases),
            ("events", events),
            ("clocks", clocks),
            ("sessions", sessions),
            ("claims", claims),
            ("outbox", outbox),
            ("referrals", referrals),
            ("certificates", certificates),
        ):
            counts[key] += len(rows)
        if progress:
            done = min(n_cases, lo + BATCH)
            print(f"  generated {done:,}/{n_cases:,} cases ({time.perf_counter() - started:.0f} s)", flush=True)
    with engine.begin() as conn:
        conn.execute(
            insert(Meta.__table__),
            [
                {"key": "holidays_version", "value": holidays_version()},
                {"key": "rules_version", "value": CURRENT_RULES_VERSION},
            ],
        )
        _move_sequences(conn)
    engine.dispose()
    counts["open_clocks"] = open_clocks
    counts["by_status"] = dict(sorted(by_status.items()))
    counts["open_cases"] = sum(v for k, v in by_status.items() if k != "closed")
    return counts


def settle(url: str, as_of: date = AS_OF) -> dict:
    """Leave the data as the service would after `as_of`'s midday sweep: run the project's own
    monitor for `as_of` (declined certificates issued, alerts and digest queued) and mark every
    queued email sent. The benchmark's monitor run is then the next day's, not a first run."""
    from sqlalchemy import update

    from models.db import OutboxEmail
    from tasks.deadlines.job import run

    summary = run(as_of, _at(as_of, 12, 45)).as_dict()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            update(OutboxEmail.__table__)
            .where(OutboxEmail.__table__.c.status == "pending")
            .values(status="sent", attempts=1, sent_at=_at(as_of, 13))
        )
    engine.dispose()
    return summary


def _move_sequences(conn) -> None:
    """PostgreSQL: rows were inserted with explicit ids, so move each id sequence past them."""
    from sqlalchemy import text

    if conn.dialect.name != "postgresql":
        return
    for table in ("local_authorities", "mediators", "cases", "mediation_sessions"):
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        )


def generate_empty(url: str, n_las: int = 150) -> None:
    """Migrate the database at `url` and register the LAs: a service with nothing to do."""
    from models.db import LaPolicy, LocalAuthority
    from models.db.migrate import upgrade

    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(LocalAuthority.__table__), la_rows(n_las))
        conn.execute(
            insert(LaPolicy.__table__),
            [
                {"la_id": i + 1, "effective_from": date(2014, 9, 1), "categories": list(CLAIM_CATEGORIES)}
                for i in range(n_las)
            ],
        )
        _move_sequences(conn)
    engine.dispose()


# --- intake drops ------------------------------------------------------------------------------------


def referral_records(
    n: int,
    *,
    seed: int = 1,
    n_las: int = 150,
    day: date = RUN_DAY,
    similar_share: float = 0.3,
    copies: tuple[int, int] = (3, 5),
    prefix: str = "BENCH-IN",
) -> list[dict]:
    """`n` valid referral forms (docs/formats.md "Referrals", nested JSON) submitted in the week up to
    `day`; `similar_share` of them come in groups of near-identical forms: the same child, LA and
    decision letter as the group's first form, with a different form id (and time); a group has
    `copies` (a range) near-identical forms after its first."""
    rng = random.Random(seed * 7919 + n)
    las = la_rows(n_las)
    out: list[dict] = []
    template: dict | None = None
    left_in_group = 0
    for i in range(n):
        submitted = datetime.combine(
            day - timedelta(days=rng.randint(1, 7)), dtime(rng.randint(7, 21), rng.randint(0, 59)), TZ
        )
        form_id = f"{prefix}-{seed}-{i + 1:07d}"
        if left_in_group and template is not None:
            rec = json.loads(json.dumps(template))
            rec["form_id"] = form_id
            first = datetime.fromisoformat(template["submitted_at"])  # sent in again a little later
            rec["submitted_at"] = (first + timedelta(minutes=3 * left_in_group)).isoformat()
            rec["notes"] = f"resubmitted ({left_in_group})"
            left_in_group -= 1
            out.append(rec)
            continue
        la = las[rng.randrange(n_las)]
        decision = rng.choices(DECISIONS, DECISION_WEIGHTS)[0]
        role = rng.choice(ROLES)
        received = submitted.date()
        rec = {
            "form_id": form_id,
            "submitted_at": submitted.isoformat(),
            "service": "drs" if rng.random() < 0.1 else "mediation",
            "requester": {
                "role": role,
                "name": f"Applicant {i + 1:07d}",
                "email": f"applicant{i + 1:07d}@example.org",
                "phone": f"0700 {i % 1000000:06d}",
                "postcode": "ZZ99 9ZZ",
            },
            "child": {
                "name": f"Pupil {i + 1:07d}",
                "date_of_birth": (received - timedelta(days=rng.randint(3 * 365, 20 * 365))).isoformat(),
            },
            "local_authority": rng.choice((la["name"], la["code"], la["aliases"][0])),
            "decision": {
                "type": decision,
                "letter_sent_on": (received - timedelta(days=rng.randint(3, 50))).isoformat(),
            },
            "sections": sorted(rng.sample(("B", "F", "I"), rng.randint(1, 3))) if decision == "plan_contents" else [],
            "health_issues": rng.random() < 0.15,
            "social_care_issues": rng.random() < 0.1,
            "wants_mediation": rng.choices(("yes", "no", "undecided"), (40, 20, 40))[0],
            "consent_to_contact_la": role == "professional" or rng.random() < 0.8,
            "notes": "",
        }
        out.append(rec)
        if similar_share >= 1 or rng.random() < similar_share / (sum(copies) / 2):  # a group: this form and its copies
            template, left_in_group = rec, rng.randint(*copies)
    return out


CSV_COLUMNS = REFERRAL_FIELDS  # the CSV columns are the referral's fields (docs/formats.md)


def _flat(rec: dict) -> dict:
    return {
        "form_id": rec["form_id"],
        "submitted_at": rec["submitted_at"],
        "service": rec["service"],
        **{f"requester_{k}": v for k, v in rec["requester"].items()},
        "child_name": rec["child"]["name"],
        "child_date_of_birth": rec["child"]["date_of_birth"],
        "local_authority": rec["local_authority"],
        "decision_type": rec["decision"]["type"],
        "decision_letter_sent_on": rec["decision"]["letter_sent_on"],
        "sections": ";".join(rec["sections"]),
        "health_issues": "yes" if rec["health_issues"] else "no",
        "social_care_issues": "yes" if rec["social_care_issues"] else "no",
        "wants_mediation": rec["wants_mediation"],
        "consent_to_contact_la": "yes" if rec["consent_to_contact_la"] else "no",
        "notes": rec["notes"],
    }


def write_referral_files(
    folder: Path,
    n: int,
    *,
    seed: int = 1,
    n_las: int = 150,
    day: date = RUN_DAY,
    similar_share: float = 0.3,
    copies: tuple[int, int] = (3, 5),
    stem: str = "referrals",
) -> tuple[Path, Path]:
    """Write the same `n` referrals as `<stem>.json` and `<stem>.csv` in `folder`; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    records = referral_records(n, seed=seed, n_las=n_las, day=day, similar_share=similar_share, copies=copies)
    json_path, csv_path = folder / f"{stem}.json", folder / f"{stem}.csv"
    json_path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(_flat(r) for r in records)
    return json_path, csv_path


# --- the outbox for the delivery benchmark -------------------------------------------------------------


def pending_email_rows(n: int, *, seed: int = 1, now: datetime) -> Iterator[dict]:
    """`n` pending outbox rows like the service's own (text + HTML, ≈ 1 KB + 3 KB), due at `now`."""
    rng = random.Random(seed)
    for i in range(n):
        ref = f"DRS-2026-{i + 1:05d}"
        paragraphs = [f"This is about case {ref}. The next date for you is {RUN_DAY:%-d %B %Y}."] + [
            "We will write again when the local authority replies. " * rng.randint(2, 4) for _ in range(4)
        ]
        text = "\n\n".join(paragraphs)
        html = (
            "<html><body>" + "".join(f'<p style="font-family:Arial">{p}</p>' for p in paragraphs) * 2 + "</body></html>"
        )
        yield {
            "key": f"bench-mail:{seed}:{i + 1}",
            "kind": rng.choice(("acknowledgement", "alert-due-soon", "reminder")),
            "to_addr": f"family{i + 1:07d}@example.org",
            "subject": f"About your case {ref}",
            "body_text": text,
            "body_html": html,
            "case_id": None,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now - timedelta(minutes=1),
            "created_at": now - timedelta(minutes=1),
        }


def add_pending_emails(url: str, n: int, *, seed: int = 1, now: datetime) -> None:
    """Queue `n` pending emails (see `pending_email_rows`) in the database at `url`."""
    from models.db import OutboxEmail

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(OutboxEmail.__table__), list(pending_email_rows(n, seed=seed, now=now)))
    engine.dispose()


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="folder: the SQLite file and the intake drop")
    parser.add_argument("--referrals", type=int, default=1_000)
    parser.add_argument("--database-url", default=None, help="default: drs.sqlite3 in --out")
    parser.add_argument("--las", type=int, default=150)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DRS_HOME", str(args.out))
    from models.db.migrate import upgrade

    url = args.database_url or f"sqlite:///{args.out.resolve() / 'drs.sqlite3'}"
    upgrade(url)
    counts = generate_cases(url, args.cases, seed=args.seed, n_las=args.las, progress=args.progress)
    if args.database_url:
        os.environ["DRS_DATABASE_URL"] = args.database_url
    sweep = settle(url)
    counts["settled"] = {
        "emails_queued": sweep["emails_queued"],
        "certificates_issued": len(sweep["certificates_issued"]),
    }
    write_referral_files(args.out, args.referrals, seed=args.seed, n_las=args.las)
    similar = max(10, args.referrals // 10)  # ten children, each sent in again and again
    write_referral_files(
        args.out,
        similar,
        seed=args.seed,
        n_las=args.las,
        similar_share=1.0,
        copies=(similar // 10 - 1,) * 2,
        stem="similar",
    )
    (args.out / "counts.json").write_text(json.dumps(counts, indent=1))
    if args.progress:
        print(json.dumps(counts, indent=1))


if __name__ == "__main__":
    main()
