"""The clock engine: every clock rule of docs/rules.md §2-§4, one method each.

``ClockEngine`` holds one computation (the facts, the calendar and ``today``);
``models.domain.clocks.compute_clocks`` runs it. The agreement follow-ups are
``models.domain.agreement_clocks``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from models.domain.agreement_clocks import agreement_follow_ups
from models.domain.calendar import WorkingCalendar, add_months, yearly_window_end
from models.domain.clock_values import (
    CERTIFICATE_CLOCK_RULES,
    MET,
    MISSED,
    NOT_APPLICABLE,
    OPEN,
    CaseFacts,
    Clock,
    Event,
    certificate_needed,
    late_working_days,
    replace_state,
)
from models.domain.rules import RuleSet, ruleset_for, with_overrides


class ClockEngine:
    """One computation: the facts, the calendar and ``today`` shared by every clock rule."""

    def __init__(
        self,
        facts: CaseFacts,
        calendar: WorkingCalendar,
        today: date,
        rules: Sequence[RuleSet],
        overrides: Mapping[str, int] | None,
    ) -> None:
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
        self,
        name: str,
        *,
        due: date,
        owner: str,
        rs: RuleSet,
        rule: str,
        started_on: date,
        met_on: date | None = None,
        target: date | None = None,
        state: str | None = None,
        note: str = "",
        on_time: bool = False,
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

    def wd_clock(
        self, name: str, start: date, field: str, rule: str, owner: str, met_on: date | None = None, note: str = ""
    ) -> Clock:
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
        return clocks | agreement_follow_ups(self)

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
            if e.name in CERTIFICATE_CLOCK_RULES
            and (e.name != "withdrawn" or (requested is not None and requested.on <= e.on))
        ]
        if not triggers:
            return None
        trigger = triggers[-1]
        variant, field, rule, owner = CERTIFICATE_CLOCK_RULES[trigger.name]
        issued = self.first("certificate-issued", trigger.on)
        clock = self.wd_clock(
            "certificate_due", trigger.on, field, rule, owner, met_on=issued.on if issued else None, note=variant
        )
        return clock if certificate_needed(self.facts) else replace_state(clock, NOT_APPLICABLE)

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
