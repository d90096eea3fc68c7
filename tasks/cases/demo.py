"""The fictional demo data set (`drs demo`, and `make run` on an empty database).

The eleven North-West England LAs with their real names and ONS codes, a few mediators and about
150 fictional cases over the six months before `today`, in every state. Deterministic for a given
`today` (seeded). Every name is obviously made up; every address is on the reserved `.example` domain.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.db import Case, ExpenseClaim, LocalAuthority, MediationSession, SessionAttendee
from models.domain.calendar import add_months
from tasks.cases.casework import new_case, recompute_clocks, record_event
from tasks.cases.registry import LaRow, add_mediator, upsert_local_authority
from tasks.deadlines.calendar_source import working_calendar
from tasks.operations import progress

NORTH_WEST_LAS = (
    ("E08000006", "Salford", ["Salford City Council"], 45),
    ("E08000003", "Manchester", ["Manchester City Council"], 45),
    ("E08000001", "Bolton", ["Bolton Council"], 45),
    ("E08000002", "Bury", ["Bury Council"], 45),
    ("E08000004", "Oldham", ["Oldham Council"], 45),
    ("E08000005", "Rochdale", ["Rochdale Borough Council"], 40),
    ("E08000007", "Stockport", ["Stockport Council"], 45),
    ("E08000008", "Tameside", ["Tameside Council"], 45),
    ("E08000009", "Trafford", ["Trafford Council"], 45),
    ("E08000010", "Wigan", ["Wigan Council"], 45),
    ("E06000008", "Blackburn with Darwen", ["Blackburn", "Blackburn with Darwen Borough Council"], 35),
)
MEDIATORS = (
    ("Mediator Alpha Demo", "alpha.mediator@service.example"),
    ("Mediator Beta Demo", "beta.mediator@service.example"),
    ("Mediator Gamma Demo", "gamma.mediator@service.example"),
)
FIRST = (
    "Ada",
    "Bram",
    "Cleo",
    "Dev",
    "Esme",
    "Finn",
    "Gwen",
    "Hari",
    "Isla",
    "Jude",
    "Kit",
    "Lena",
    "Milo",
    "Nia",
    "Otto",
)
LAST = ("Demoford", "Sampleton", "Testwell", "Fictly", "Mockridge", "Placeholder", "Exampleby")
DECISIONS = (
    "refuse_assessment",
    "refuse_assessment",
    "refuse_plan",
    "plan_contents",
    "plan_contents",
    "refuse_reassessment",
    "refuse_amend",
    "cease_plan",
)
SCENARIOS = (  # (name, weight)
    ("new", 6),
    ("informed", 8),
    ("declined_pending", 5),
    ("declined_issued", 40),
    ("requested", 6),
    ("la_received", 6),
    ("session_booked", 8),
    ("concluded_agreed", 8),
    ("concluded_not_agreed", 5),
    ("concluded_issued", 8),
    ("withdrawn", 4),
    ("deemed", 3),
    ("drs", 6),
    ("closed", 5),
)


def demo_la_rows() -> list[LaRow]:
    rows = []
    for code, name, aliases, rate in NORTH_WEST_LAS:
        slug = name.lower().replace(" ", "")
        rows.append(
            LaRow(
                code=code,
                name=name,
                aliases=aliases,
                sen_team_email=f"sen.team@{slug}.example",
                finance_email=f"finance@{slug}.example",
                mileage_rate_pence=rate,
                receipt_threshold_pence=1000,
                claim_window_days=90,
            )
        )
    return rows


def database_is_empty(db: Session) -> bool:
    """True when the register holds no local authority (what `make run` checks before loading)."""
    return db.scalar(select(func.count()).select_from(LocalAuthority)) == 0


def load_demo(db: Session, today: date, now: datetime, cases: int = 150) -> dict[str, int]:
    """Load the demo set in the caller's transaction. Returns counts. Commits nothing."""
    tz = ZoneInfo("Europe/London")
    if db.scalar(select(Case.id).where(Case.requester_email.like("%@families.example")).limit(1)) is not None:
        return {"local_authorities": 0, "mediators": 0, "cases": 0, "sessions": 0, "claims": 0}
    rng = random.Random(f"drs-demo-{today.isoformat()}")
    cal = working_calendar()
    las = [upsert_local_authority(db, row, now)[0] for row in demo_la_rows()]
    mediators = [add_mediator(db, n, e, now)[0] for n, e in MEDIATORS]
    db.flush()
    names, weights = zip(*SCENARIOS)
    counts = {"local_authorities": len(las), "mediators": len(mediators), "cases": 0, "sessions": 0, "claims": 0}
    start = add_months(today, -6)
    span = (today - start).days
    withdrawal_left_pending = False  # one withdrawn case still waits for its certificate
    for i in progress.counted(range(cases)):
        scenario = rng.choices(names, weights)[0]
        received = cal.working_day_on_or_after(start + timedelta(days=rng.randrange(span)))
        if received > today:
            received = cal.working_day_on_or_before(today)
        if scenario == "new":
            received = cal.working_day_on_or_before(today - timedelta(days=rng.randrange(3)))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        la = rng.choice(las)
        decision = rng.choice(DECISIONS)
        drs = scenario == "drs"
        recorder = "demo"
        case = new_case(
            db,
            la=la,
            service="drs" if drs else "mediation",
            received_on=received,
            now=now,
            today=today,
            recorded_by=recorder,
            requester_role=rng.choice(("parent", "parent", "carer", "young_person")),
            requester_name=f"{first} {last} (demo)",
            requester_email=f"family.{i + 1:04d}@families.example",
            requester_phone="01610000000",
            requester_postcode="M1 1AA",
            child_name=f"Child {rng.choice(FIRST)} {last} (demo)",
            child_date_of_birth=date(today.year - rng.randrange(3, 20), rng.randrange(1, 13), rng.randrange(1, 28)),
            decision_type=None if drs else decision,
            decision_letter_sent_on=None if drs else received - timedelta(days=rng.randrange(3, 40)),
            sections=["B", "F", "I"][: rng.randrange(1, 4)] if decision == "plan_contents" and not drs else [],
            health_issues=rng.random() < 0.15,
            social_care_issues=rng.random() < 0.1,
            wants_mediation={"declined_pending": "no", "declined_issued": "no"}.get(scenario, "undecided"),
            consent_to_contact_la=True,
            notes=None,
            flags=[],
        )
        counts["cases"] += 1

        def step(base: date, wd: int) -> date:
            return min(cal.add_working_days(base, wd), today)

        def event(name: str, on: date, **kw) -> None:
            record_event(db, case, name, on, now=now, today=today, recorded_by=recorder, **kw)  # noqa: B023 (called within the iteration)

        if scenario in ("new", "drs"):
            if drs and received < today:
                event("information-given", step(received, 1))
            continue
        info = step(received, rng.randrange(1, 3))
        event("information-given", info)
        if scenario == "informed":
            continue
        if scenario.startswith("declined") or scenario == "closed":
            declined = step(info, rng.randrange(0, 2))
            event("mediation-declined", declined)
            if scenario != "declined_pending":
                event("certificate-issued", step(declined, rng.randrange(1, 5)), cert_type="declined")
            if scenario == "closed":
                event("closed", step(declined, 10))
            continue
        requested = step(info, rng.randrange(0, 3))
        event("mediation-requested", requested)
        if scenario == "requested":
            continue
        la_received = step(requested, 1)
        event("la-received-request", la_received, health=case.health_issues)
        if scenario == "withdrawn":
            withdrawn_on = step(la_received, 5)
            event("withdrawn", withdrawn_on)
            if withdrawn_on < today and withdrawal_left_pending:
                event("certificate-issued", step(withdrawn_on, 2), cert_type="withdrawn")
            withdrawal_left_pending = True
            continue
        if scenario == "deemed":
            event("la-cannot-arrange", step(la_received, 10))
            continue
        if scenario == "la_received":
            continue
        future = scenario == "session_booked"
        meeting_day = (
            cal.add_working_days(today, rng.randrange(3, 25))
            if future
            else min(
                cal.add_working_days(la_received, rng.randrange(10, 25)),
                cal.working_day_on_or_before(today - timedelta(days=1)),
            )
        )
        if meeting_day <= la_received:
            continue
        session = _demo_session(
            db,
            case,
            rng.choice(mediators),
            meeting_day,
            tz,
            booked=min(la_received + timedelta(days=1), today),
            now=now,
            rng=rng,
        )
        counts["sessions"] += 1
        if future:
            recompute_clocks(db, case, today, now)
            continue
        session.status = "held"
        outcome = "not-agreed" if scenario == "concluded_not_agreed" else rng.choice(("agreed", "agreed", "partial"))
        session.outcome, session.outcome_on = outcome, meeting_day
        event("mediation-concluded", meeting_day)
        if outcome != "not-agreed":
            event(
                "agreement-reached", meeting_day, items=(rng.choice(("assess", "issue-plan", "amend-plan", "other")),)
            )
        if scenario == "concluded_issued" or (meeting_day < today - timedelta(days=7)):
            event("certificate-issued", step(meeting_day, rng.randrange(1, 4)), cert_type="after-mediation")
        if rng.random() < 0.6:
            amount = rng.choice((1260, 2250, 900, 3600))
            db.add(
                ExpenseClaim(
                    claim_id=f"DEMO-CLAIM-{i + 1:04d}",
                    case_id=case.id,
                    session_id=session.id,
                    session_date=meeting_day,
                    claimant_name=case.requester_name,
                    claimant_email=case.requester_email,
                    category="mileage",
                    miles=amount / 45,
                    rate_pence=45,
                    amount_pence=amount,
                    receipt=False,
                    description="Return trip to the mediation venue",
                    status="pending",
                    imported_at=now,
                    updated_at=now,
                )
            )
            counts["claims"] += 1
    return counts


def _demo_session(
    db: Session, case: Case, mediator, day: date, tz, booked: date, now: datetime, rng
) -> MediationSession:
    start = datetime.combine(day, time(rng.choice((10, 13))), tzinfo=tz)
    session = MediationSession(
        case_id=case.id,
        mediator_id=mediator.id,
        uid=f"{case.ref.lower()}-{day.isoformat()}@drs-flows.example",
        sequence=0,
        start_at=start,
        end_at=start + timedelta(hours=2),
        status="scheduled",
        venue="Demo Community Centre, 1 Example Street, Manchester M1 1AA",
        access_notes="Step-free access; car park at rear.",
        booked_at=datetime.combine(booked, time(10), tzinfo=tz).astimezone(UTC),
        updated_at=now,
    )
    session.attendees = [
        SessionAttendee(role="family", name=case.requester_name, email=case.requester_email),
        SessionAttendee(
            role="la",
            name=f"SEN Officer ({case.local_authority.name}, demo)",
            email=case.local_authority.sen_team_email,
            authority_to_settle=True,
        ),
        SessionAttendee(role="mediator", name=mediator.name, email=mediator.email),
    ]
    db.add(session)
    db.flush()
    return session
