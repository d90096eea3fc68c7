"""The fictional demo data set (`drs demo`, and `make run` on an empty database).

The eleven North-West England LAs with their real names and ONS codes, a few mediators and about
150 fictional cases over the six months before `today`, in every state. Deterministic for a given
`today` (seeded). Every name is obviously made up; every address is on the reserved `.example` domain.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.db import Case, ExpenseClaim, LocalAuthority, MediationSession, SessionAttendee
from models.domain.calendar import add_months
from tasks.cases.casework import new_case, recompute_clocks, record_event
from tasks.cases.demo_data import DECISIONS, FIRST, LAST, MEDIATORS, SCENARIOS, demo_la_rows
from tasks.cases.registry import add_mediator, upsert_local_authority
from tasks.deadlines.calendar_source import working_calendar
from tasks.operations import progress


def database_is_empty(db: Session) -> bool:
    """True when the register holds no local authority (what `make run` checks before loading)."""
    return db.scalar(select(func.count()).select_from(LocalAuthority)) == 0


def load_demo(db: Session, today: date, now: datetime, cases: int = 150) -> dict[str, int]:
    """Load the demo set in the caller's transaction. Returns counts. Commits nothing."""
    if db.scalar(select(Case.id).where(Case.requester_email.like("%@families.example")).limit(1)) is not None:
        return {"local_authorities": 0, "mediators": 0, "cases": 0, "sessions": 0, "claims": 0}
    demo = _Demo(db, today, now)
    for i in progress.counted(range(cases)):
        demo.add_case(i)
    return demo.counts


class _Demo:
    """One demo load: the register, the mediators, then each case played through its scenario.
    Every random choice comes from one generator seeded by `today`, always in the same order."""

    def __init__(self, db: Session, today: date, now: datetime) -> None:
        self.db, self.today, self.now = db, today, now
        self.tz = ZoneInfo("Europe/London")
        self.rng = random.Random(f"drs-demo-{today.isoformat()}")
        self.cal = working_calendar()
        self.las = [upsert_local_authority(db, row, now)[0] for row in demo_la_rows()]
        self.mediators = [add_mediator(db, n, e, now)[0] for n, e in MEDIATORS]
        db.flush()
        self.counts = {"local_authorities": len(self.las), "mediators": len(self.mediators)}
        self.counts |= {"cases": 0, "sessions": 0, "claims": 0}
        self.start = add_months(today, -6)
        self.withdrawal_left_pending = False  # one withdrawn case still waits for its certificate

    def step(self, base: date, wd: int) -> date:
        return min(self.cal.add_working_days(base, wd), self.today)

    def event(self, case: Case, name: str, on: date, **kw: Any) -> None:
        record_event(self.db, case, name, on, now=self.now, today=self.today, recorded_by="demo", **kw)

    def add_case(self, i: int) -> None:
        rng, cal, today = self.rng, self.cal, self.today
        names, weights = zip(*SCENARIOS)
        scenario = rng.choices(names, weights)[0]
        received = cal.working_day_on_or_after(self.start + timedelta(days=rng.randrange((today - self.start).days)))
        if received > today:
            received = cal.working_day_on_or_before(today)
        if scenario == "new":
            received = cal.working_day_on_or_before(today - timedelta(days=rng.randrange(3)))
        case = self.new_case(i, scenario, received)
        self.counts["cases"] += 1
        if scenario in ("new", "drs"):
            if scenario == "drs" and received < today:
                self.event(case, "information-given", self.step(received, 1))
            return
        la_received = self.until_la_received(case, scenario, received)
        if la_received is not None:
            self.meeting(case, scenario, la_received, i)

    def new_case(self, i: int, scenario: str, received: date) -> Case:
        rng, today = self.rng, self.today
        first, last = rng.choice(FIRST), rng.choice(LAST)
        la = rng.choice(self.las)
        decision = rng.choice(DECISIONS)
        drs = scenario == "drs"
        return new_case(
            self.db,
            la=la,
            service="drs" if drs else "mediation",
            received_on=received,
            now=self.now,
            today=today,
            recorded_by="demo",
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

    def until_la_received(self, case: Case, scenario: str, received: date) -> date | None:
        """The events up to the LA receiving the request; None when the scenario ends before a meeting."""
        rng, step, today = self.rng, self.step, self.today
        info = step(received, rng.randrange(1, 3))
        self.event(case, "information-given", info)
        if scenario == "informed":
            return None
        if scenario.startswith("declined") or scenario == "closed":
            declined = step(info, rng.randrange(0, 2))
            self.event(case, "mediation-declined", declined)
            if scenario != "declined_pending":
                self.event(case, "certificate-issued", step(declined, rng.randrange(1, 5)), cert_type="declined")
            if scenario == "closed":
                self.event(case, "closed", step(declined, 10))
            return None
        requested = step(info, rng.randrange(0, 3))
        self.event(case, "mediation-requested", requested)
        if scenario == "requested":
            return None
        la_received = step(requested, 1)
        self.event(case, "la-received-request", la_received, health=case.health_issues)
        if scenario == "withdrawn":
            withdrawn_on = step(la_received, 5)
            self.event(case, "withdrawn", withdrawn_on)
            if withdrawn_on < today and self.withdrawal_left_pending:
                self.event(case, "certificate-issued", step(withdrawn_on, 2), cert_type="withdrawn")
            self.withdrawal_left_pending = True
            return None
        if scenario == "deemed":
            self.event(case, "la-cannot-arrange", step(la_received, 10))
            return None
        return None if scenario == "la_received" else la_received

    def meeting(self, case: Case, scenario: str, la_received: date, i: int) -> None:
        """A meeting booked (future) or held, its outcome, certificate and perhaps a claim."""
        rng, cal, today, now = self.rng, self.cal, self.today, self.now
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
            return
        booked = min(la_received + timedelta(days=1), today)
        session = _demo_session(self.db, case, rng.choice(self.mediators), meeting_day, self.tz, booked, now, rng)
        self.counts["sessions"] += 1
        if future:
            recompute_clocks(self.db, case, today, now)
            return
        session.status = "held"
        outcome = "not-agreed" if scenario == "concluded_not_agreed" else rng.choice(("agreed", "agreed", "partial"))
        session.outcome, session.outcome_on = outcome, meeting_day
        self.event(case, "mediation-concluded", meeting_day)
        if outcome != "not-agreed":
            item = rng.choice(("assess", "issue-plan", "amend-plan", "other"))
            self.event(case, "agreement-reached", meeting_day, items=(item,))
        if scenario == "concluded_issued" or (meeting_day < today - timedelta(days=7)):
            self.event(
                case, "certificate-issued", self.step(meeting_day, rng.randrange(1, 4)), cert_type="after-mediation"
            )
        if rng.random() < 0.6:
            self.claim(case, session, meeting_day, i)

    def claim(self, case: Case, session: MediationSession, meeting_day: date, i: int) -> None:
        amount = self.rng.choice((1260, 2250, 900, 3600))
        self.db.add(
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
                imported_at=self.now,
                updated_at=self.now,
            )
        )
        self.counts["claims"] += 1


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
