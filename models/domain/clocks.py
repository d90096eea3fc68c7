"""The clock engine: a case's statutory and service deadlines, computed from its facts.

``compute_clocks(facts, calendar, today)`` is pure: the same facts, holidays and ``today``
always give the same clocks, so it can be recomputed whenever a case changes or
:data:`~models.domain.rules.CURRENT_RULES_VERSION` moves. Every period, level and citation
comes from the :class:`~models.domain.rules.RuleSet` in force on each clock's trigger date;
nothing statutory is written here. Clock names, owners and levels follow
``docs/rules.md`` §2–§4 and README.md ("The clocks").

States: ``met`` (the clock's event happened, on ``met_on``), ``missed`` (not met and
``today`` is after ``target``), ``open``, ``not_applicable`` (no certificate needed, mediation
ended early, or the case was closed before the clock fell due). ``contact_adviser_by``,
``mediation_by`` and ``notice_by`` are met only on time; the others are met by their event
whenever it happens, so ``met_on`` may be after ``due``: ``late_wd`` is how many working days
after ``target`` it was met (0 on time, None when not met). A ``notice_by`` booked late with the
family's agreement to shorter notice counts 0. ``appeal_deadline`` met by ``appeal_lodged`` has
no date recorded, so its ``met_on`` and ``late_wd`` stay None. Every rule, period and level is
summarised for readers in ``docs/rules.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from models.domain.calendar import WorkingCalendar, add_months, yearly_window_end
from models.domain.rules import RULESETS, RuleSet, ruleset_for, with_overrides

__all__ = [
    "CaseFacts",
    "Clock",
    "Event",
    "NextSession",
    "certificate_needed",
    "clock_to_json",
    "compute_clocks",
    "late_working_days",
]

OPEN, MET, MISSED, NOT_APPLICABLE = "open", "met", "missed", "not_applicable"

# certificate trigger event -> (certificate variant, RuleSet period field, citation key, owner)
_CERTIFICATE_TRIGGERS = {
    "mediation-declined": ("declined", "certificate_declined_wd", "certificate_declined", "adviser"),
    "withdrawn": ("withdrawn", "certificate_withdrawn_wd", "certificate_withdrawn", "adviser"),
    "la-cannot-arrange": ("deemed", "certificate_deemed_wd", "certificate_deemed", "adviser"),
    "mediation-concluded": (
        "after-mediation",
        "certificate_after_mediation_wd",
        "certificate_after_mediation",
        "mediator",
    ),
}


@dataclass(frozen=True)
class Event:
    """A case event as the engine sees it (names as in README.md "Command line: `drs`", events)."""

    name: str
    on: date
    health: bool = False
    cert_type: str | None = None  # certificate-issued: declined|withdrawn|deemed|after-mediation
    items: tuple[str, ...] = ()  # agreement-reached: assess|issue-plan|amend-plan|reassess|...


@dataclass(frozen=True)
class NextSession:
    """The case's next scheduled mediation meeting (for ``notice_by``)."""

    starts_on: date
    booked_on: date
    short_notice_agreed: bool = False


@dataclass(frozen=True)
class CaseFacts:
    """What the engine needs to know about one case; dates are Europe/London local dates.

    ``acknowledged_on`` (optional) is when the acknowledgement reached the family; without it
    ``acknowledge_by`` is met by the first recorded event, since any contact acknowledges.
    ``la_informed_on`` (optional) is when the service itself sent the family's mediation request
    to the LA (intake does, with consent); it meets ``la_informed_by`` as the LA's own
    ``la-received-request`` does.
    """

    service: str  # "mediation" | "drs"
    decision_type: str | None
    letter_sent_on: date | None
    received_on: date
    sections: tuple[str, ...] = ()
    health_issues: bool = False
    events: tuple[Event, ...] = ()
    next_session: NextSession | None = None
    appeal_lodged: bool = False
    acknowledged_on: date | None = None
    la_informed_on: date | None = None


@dataclass(frozen=True)
class Clock:
    """One deadline of a case.

    ``due`` is the legal date; ``target`` the working day alerts aim at (``due`` itself when a
    working day, else the last working day before it; equal for working-day rules and for
    ``appeal_deadline``). ``level`` and ``source`` come from the rule set in force on
    ``started_on``, the trigger date.
    """

    name: str
    due: date
    target: date
    state: str  # open | met | missed | not_applicable
    owner: str  # family | adviser | la | icb | mediator
    level: str  # VERIFIED | SECONDARY | UNVERIFIED | SERVICE
    started_on: date
    source: str
    met_on: date | None = None
    note: str = ""
    late_wd: int | None = None  # working days after ``target`` it was met; 0 on time; None if not met


def certificate_needed(facts: CaseFacts) -> bool:
    """Return whether the family needs a mediation certificate before appealing.

    False for DRS (CFA s.57: no certificate), and for a ``plan_contents`` appeal only about
    the school or type of school in section I (CFA s.55; docs/rules.md §2). A mix of I
    with B or F still needs one; unknown sections are treated as needing one.
    """
    if facts.service != "mediation":
        return False
    if facts.decision_type == "plan_contents":
        sections = {s.strip().upper() for s in facts.sections if s.strip()}
        return sections != {"I"}
    return True


def clock_to_json(clock: Clock) -> dict:
    """Return the clock as `drs case show --json` shows it (README.md): ``due``, ``target`` (ISO dates), ``state``,
    ``owner``, ``level``, ``met_on`` (ISO date or None) and ``late_wd`` (int or None)."""
    return {
        "due": clock.due.isoformat(),
        "target": clock.target.isoformat(),
        "state": clock.state,
        "owner": clock.owner,
        "level": clock.level,
        "met_on": clock.met_on.isoformat() if clock.met_on else None,
        "late_wd": clock.late_wd,
    }


def late_working_days(target: date, met_on: date | None, calendar: WorkingCalendar) -> int | None:
    """Return how many working days after ``target`` a clock was met: 0 on or before it (a
    non-working day after ``target`` but on or before ``due`` counts 0 too, since ``target`` is
    the last working day on or before ``due``); None when ``met_on`` is None."""
    if met_on is None:
        return None
    return max(0, calendar.working_days_between(target, met_on))


def compute_clocks(
    facts: CaseFacts,
    calendar: WorkingCalendar,
    today: date,
    rules: Sequence[RuleSet] = RULESETS,
    overrides: Mapping[str, int] | None = None,
) -> dict[str, Clock]:
    """Return the case's clocks by JSON name, as of ``today`` (a Europe/London date).

    DRS cases get only ``acknowledge_by`` and ``first_contact_by``. ``overrides`` are the
    local authority's service standards (see ``rules.with_overrides``). A ``closed`` event
    turns every clock not met and due after the closing date into ``not_applicable``.

    Raises ``ValueError`` for an unknown service or agreement item, a bad override, or a
    trigger date before any rule set was in force.
    """
    if facts.service not in ("mediation", "drs"):
        raise ValueError(f"unknown service {facts.service!r}")
    engine = _Engine(facts, calendar, today, rules, overrides)
    clocks = engine.service_clocks()
    if facts.service == "mediation":
        clocks.update(engine.statutory_clocks())
    closed = engine.latest("closed")
    if closed is not None:
        for name, clock in clocks.items():
            if clock.state in (OPEN, MISSED) and clock.due > closed.on:
                clocks[name] = _replace_state(clock, NOT_APPLICABLE)
    return clocks


def _replace_state(clock: Clock, state: str) -> Clock:
    met = state == MET
    return dataclasses.replace(
        clock, state=state, met_on=clock.met_on if met else None, late_wd=clock.late_wd if met else None
    )


class _Engine:
    """One computation: the facts, the calendar and ``today`` shared by every clock rule."""

    def __init__(self, facts, calendar, today, rules, overrides):
        self.facts, self.cal, self.today = facts, calendar, today
        self._rulesets, self._overrides = rules, overrides
        # Stable chronological order: by date, then as recorded.
        self.events = [e for _, e in sorted(enumerate(facts.events), key=lambda p: (p[1].on, p[0]))]

    # --- helpers -------------------------------------------------------------------------
    def rules(self, on: date) -> RuleSet:
        return with_overrides(ruleset_for(on, self._rulesets), self._overrides)

    def latest(self, name: str) -> Event | None:
        return next((e for e in reversed(self.events) if e.name == name), None)

    def first(self, name: str, on_or_after: date = date.min) -> Event | None:
        return next((e for e in self.events if e.name == name and e.on >= on_or_after), None)

    def clock(
        self, name, *, due, owner, rs, rule, started_on, met_on=None, target=None, state=None, note="", on_time=False
    ) -> Clock:
        """Build a clock; without an explicit ``state``: met if ``met_on``, else by today.
        ``on_time``: a met clock counts as on time (``late_wd`` 0) whatever its ``met_on``."""
        if target is None:
            target = self.cal.working_day_on_or_before(due)
        if state is None:
            state = MET if met_on is not None else (MISSED if self.today > target else OPEN)
        met_on = met_on if state == MET else None
        late_wd = None if met_on is None else 0 if on_time else late_working_days(target, met_on, self.cal)
        return Clock(
            name=name,
            due=due,
            target=target,
            state=state,
            owner=owner,
            level=rs.level(rule),
            started_on=started_on,
            source=rs.source(rule),
            met_on=met_on,
            note=note,
            late_wd=late_wd,
        )

    def wd_clock(self, name, start, field, rule, owner, met_on=None, note="") -> Clock:
        rs = self.rules(start)
        due = self.cal.add_working_days(start, getattr(rs, field))
        return self.clock(name, due=due, owner=owner, rs=rs, rule=rule, started_on=start, met_on=met_on, note=note)

    # --- §4 service standards ------------------------------------------------------------
    def service_clocks(self) -> dict[str, Clock]:
        """``acknowledge_by`` and ``first_contact_by``, for every service (§4, SERVICE).
        ``la_informed_by``, also §4, exists only for mediation (:meth:`la_informed_by`)."""
        f = self.facts
        contacts = [e.on for e in self.events if e.name != "closed"]
        contacts += [f.acknowledged_on] if f.acknowledged_on else []
        information = self.first("information-given")
        return {
            "acknowledge_by": self.wd_clock(
                "acknowledge_by",
                f.received_on,
                "acknowledge_wd",
                "acknowledge",
                "adviser",
                met_on=min(contacts, default=None),
            ),
            "first_contact_by": self.wd_clock(
                "first_contact_by",
                f.received_on,
                "first_contact_wd",
                "first_contact",
                "adviser",
                met_on=information.on if information else None,
            ),
        }

    # --- §2-§3 statutory clocks (mediation service only) -----------------------------------
    def statutory_clocks(self) -> dict[str, Clock]:
        built = (
            self.contact_adviser_by(),
            self.la_informed_by(),
            self.icb_notify_by(),
            self.mediation_by(),
            self.notice_by(),
            self.certificate_due(),
            self.appeal_deadline(),
        )
        clocks = {c.name: c for c in built if c is not None}
        return clocks | self.agreement_follow_ups()

    def contact_adviser_by(self) -> Clock | None:
        """Letter + 2 months, family, reg 33 (VERIFIED); met when the referral was received
        on or before the due date."""
        letter = self.facts.letter_sent_on
        if letter is None:
            return None
        rs = self.rules(letter)
        due = add_months(letter, rs.contact_adviser_months)
        received = self.facts.received_on
        state = MET if received <= due else MISSED
        return self.clock(
            "contact_adviser_by",
            due=due,
            owner="family",
            rs=rs,
            rule="contact_adviser",
            started_on=letter,
            met_on=received,
            state=state,
        )

    def la_informed_by(self) -> Clock | None:
        """Service standard: the adviser passes the family's request to the LA (SERVICE)."""
        requested = self.latest("mediation-requested")
        if requested is None:
            return None
        received = self.first("la-received-request", requested.on)
        passed_on = [received.on] if received else []
        informed = self.facts.la_informed_on
        passed_on += [informed] if informed is not None and informed >= requested.on else []
        return self.wd_clock(
            "la_informed_by",
            requested.on,
            "la_informed_wd",
            "la_informed",
            "adviser",
            met_on=min(passed_on, default=None),
        )

    def icb_notify_by(self) -> Clock | None:
        """LA receives a request including health care + 3 WD, LA; CFA s.53, reg 35
        (SECONDARY); met by ``icb-received-request``."""
        received = self.latest("la-received-request")
        if received is None or not received.health:
            return None
        icb = self.first("icb-received-request", received.on)
        return self.wd_clock(
            "icb_notify_by", received.on, "icb_notify_wd", "icb_notify", "la", met_on=icb.on if icb else None
        )

    def mediation_by(self) -> Clock | None:
        """Request received + 30 days, LA (ICB when health-only); CFA ss.53-54, regs 35-36
        (SECONDARY). Held or only arranged by then: UNVERIFIED — we alert against *held*:
        met by ``mediation-concluded`` on or before the due date. ``not_applicable`` when
        the LA says it cannot arrange it, or the family withdraws, on or before the due date.
        """
        start, owner = self.latest("la-received-request"), "la"
        if start is None:
            start, owner = self.latest("icb-received-request"), "icb"
        if start is None:
            return None
        rs = self.rules(start.on)
        due = start.on + timedelta(days=rs.mediation_within_days)
        concluded = self.first("mediation-concluded", start.on)
        met_on = concluded.on if concluded and concluded.on <= due else None
        enders = [e for e in self.events if e.name in ("la-cannot-arrange", "withdrawn") and start.on <= e.on <= due]
        state = NOT_APPLICABLE if met_on is None and enders else None
        return self.clock(
            "mediation_by",
            due=due,
            owner=owner,
            rs=rs,
            rule="mediation_within",
            started_on=start.on,
            met_on=met_on,
            state=state,
        )

    def notice_by(self) -> Clock | None:
        """5 WD before the meeting, the meeting day excluded; reg 37 (VERIFIED wording).
        Decided at booking: met if booked by then or the family agreed to shorter notice."""
        session = self.facts.next_session
        if session is None:
            return None
        rs = self.rules(session.starts_on)
        due = self.cal.subtract_working_days(session.starts_on, rs.notice_wd)
        on_time = session.booked_on <= due or session.short_notice_agreed
        return self.clock(
            "notice_by",
            due=due,
            target=due,
            owner="adviser",
            rs=rs,
            rule="notice",
            started_on=session.starts_on,
            met_on=session.booked_on,
            state=MET if on_time else MISSED,
            on_time=on_time,
            note="short notice agreed" if session.short_notice_agreed else "",
        )

    def certificate_due(self) -> Clock | None:
        """One clock for the latest certificate trigger (+3 WD each): declined (reg 34,
        SECONDARY), withdrawn after a request (UNVERIFIED), deemed (SECONDARY), after
        mediation (CFA s.55(5), reg 39, SECONDARY). Met by a certificate issued on or after
        the trigger; ``not_applicable`` when no certificate is needed."""
        requested = self.first("mediation-requested")
        triggers = [
            e
            for e in self.events
            if e.name in _CERTIFICATE_TRIGGERS
            and (e.name != "withdrawn" or (requested is not None and requested.on <= e.on))
        ]
        if not triggers:
            return None
        trigger = triggers[-1]
        variant, field, rule, owner = _CERTIFICATE_TRIGGERS[trigger.name]
        issued = self.first("certificate-issued", trigger.on)
        clock = self.wd_clock(
            "certificate_due", trigger.on, field, rule, owner, met_on=issued.on if issued else None, note=variant
        )
        return clock if certificate_needed(self.facts) else _replace_state(clock, NOT_APPLICABLE)

    def appeal_deadline(self) -> Clock | None:
        """HESC rules 20 and 12 (VERIFIED; "by 5pm" UNVERIFIED), docs/rules.md §3:
        D = the later of letter + 2 months and latest certificate + 1 month; a D in the
        Christmas window (25 Dec-1 Jan) or August moves to the first working day after the
        window; otherwise a non-working D moves to the next working day. target == due."""
        letter = self.facts.letter_sent_on
        if letter is None:
            return None
        rs = self.rules(letter)
        d = add_months(letter, rs.appeal_months_after_letter)
        certificate = self.latest("certificate-issued")
        if certificate is not None:
            d = max(d, add_months(certificate.on, rs.appeal_months_after_certificate))
        windows = (rs.appeal_christmas_window, rs.appeal_august_window)
        end = next((e for w in windows if (e := yearly_window_end(d, w)) is not None), None)
        due = self.cal.next_working_day_after(end) if end else self.cal.working_day_on_or_after(d)
        return self.clock(
            "appeal_deadline",
            due=due,
            target=due,
            owner="family",
            rs=rs,
            rule="appeal",
            started_on=letter,
            state=MET if self.facts.appeal_lodged else None,
        )

    def agreement_follow_ups(self) -> dict[str, Clock]:
        """``agreement_<item>_<step>``: weeks after the written agreement, LA; reg 42(2) with
        the reg 44 limits (VERIFIED to (2)(c), SECONDARY beyond), reg 42(3) "other" 2 weeks
        (VERIFIED). ``agreement_health_notify``: the ICB tells the LA of a health-only
        agreement within 1 week, reg 42(4) (VERIFIED). Each ``agreement-step-done`` event
        for an item (our own event, not the contract's) meets that item's next step, in order
        (``assess``: notify, decide, final). A later agreement on the same item replaces the
        earlier clocks. Other dates agreed in writing (reg 42(5)) are not modelled."""
        clocks: dict[str, Clock] = {}
        for e in self.events:
            if e.name != "agreement-reached":
                continue
            rs = self.rules(e.on)
            for item in e.items:
                if item not in rs.agreement_weeks:
                    raise ValueError(f"unknown agreement item {item!r}")
                done = sorted(
                    d.on for d in self.events if d.name == "agreement-step-done" and item in d.items and d.on >= e.on
                )
                for index, (step, weeks) in enumerate(rs.agreement_weeks[item].items()):
                    name = f"agreement_{item}_{step}"
                    clocks[name] = self.clock(
                        name,
                        due=e.on + timedelta(weeks=weeks),
                        owner="la",
                        rs=rs,
                        rule=f"agreement_{item}",
                        started_on=e.on,
                        met_on=done[index] if index < len(done) else None,
                    )
            if e.health:
                clocks["agreement_health_notify"] = self.clock(
                    "agreement_health_notify",
                    owner="icb",
                    rs=rs,
                    rule="agreement_health",
                    due=e.on + timedelta(weeks=rs.icb_health_agreement_weeks),
                    started_on=e.on,
                )
        return clocks
