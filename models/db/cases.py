"""Local authorities, cases, referrals, events, clocks, certificates, audit log."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db.base import Base, UTCDateTime


class LocalAuthority(Base):
    """An LA in the register (docs/formats.md "Local-authority register"); its current policy lives in `LaPolicy` rows."""

    __tablename__ = "local_authorities"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # ONS code, e.g. E08000006
    name: Mapped[str] = mapped_column(String(120))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    sen_team_email: Mapped[str | None] = mapped_column(String(254))
    finance_email: Mapped[str | None] = mapped_column(String(254))
    contract_email: Mapped[str | None] = mapped_column(String(254))  # commissioner: monthly report
    certificate_needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    service_standards: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # overrides of rules §4
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    policies: Mapped[list[LaPolicy]] = relationship(
        back_populates="local_authority", order_by="LaPolicy.effective_from"
    )


class LaPolicy(Base):
    """An LA's expense policy from `effective_from` on (law §5: held as data with effective dates)."""

    __tablename__ = "la_policies"
    __table_args__ = (UniqueConstraint("la_id", "effective_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authorities.id", ondelete="CASCADE"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    mileage_rate_pence: Mapped[int] = mapped_column(Integer, default=45)
    receipt_threshold_pence: Mapped[int] = mapped_column(Integer, default=1000)
    claim_window_days: Mapped[int] = mapped_column(Integer, default=90)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # categories the LA pays
    per_claim_cap_pence: Mapped[int | None] = mapped_column(Integer)
    category_caps_pence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # sanity limits from the register (issue 12); NULL = the built-in default (models.domain.expenses)
    max_miles: Mapped[Decimal | None] = mapped_column(Numeric(9, 2))
    max_item_pence: Mapped[int | None] = mapped_column(Integer)
    max_meeting_pence: Mapped[int | None] = mapped_column(Integer)
    remittance_days: Mapped[int | None] = mapped_column(Integer)
    local_authority: Mapped[LocalAuthority] = relationship(back_populates="policies")


class Case(Base):
    """A family's case with the service. Personal fields are nulled by retention (`anonymised_at`)."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_la", "status", "la_id"),
        Index("ix_cases_match", "la_id", "decision_letter_sent_on", "child_date_of_birth"),
        Index("ix_cases_rules_version", "rules_version"),
        Index("ix_cases_wants_status", "wants_mediation", "status"),
        Index("ix_cases_received_on", "received_on"),  # 0021: the monthly report
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)  # DRS-YYYY-NNNNN
    service: Mapped[str] = mapped_column(String(16))  # mediation | drs
    status: Mapped[str] = mapped_column(String(24), default="open")
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authorities.id"))
    received_on: Mapped[date] = mapped_column(Date)
    requester_role: Mapped[str | None] = mapped_column(String(40))
    requester_name: Mapped[str | None] = mapped_column(String(200))
    requester_email: Mapped[str | None] = mapped_column(String(254))
    requester_phone: Mapped[str | None] = mapped_column(String(40))
    requester_postcode: Mapped[str | None] = mapped_column(String(12))
    child_name: Mapped[str | None] = mapped_column(String(200))
    child_date_of_birth: Mapped[date | None] = mapped_column(Date)
    decision_type: Mapped[str | None] = mapped_column(String(32))
    decision_letter_sent_on: Mapped[date | None] = mapped_column(Date)
    sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    health_issues: Mapped[bool] = mapped_column(Boolean, default=False)
    social_care_issues: Mapped[bool] = mapped_column(Boolean, default=False)
    wants_mediation: Mapped[str | None] = mapped_column(String(12))
    consent_to_contact_la: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)  # soft problems for the team
    appeal_lodged: Mapped[bool] = mapped_column(Boolean, default=False)
    rules_version: Mapped[str | None] = mapped_column(String(64))  # clocks computed under
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    legal_hold_reason: Mapped[str | None] = mapped_column(Text)  # 0014: on hold = never anonymised
    legal_hold_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    legal_hold_by: Mapped[str | None] = mapped_column(String(120))
    local_authority: Mapped[LocalAuthority] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="(CaseEvent.on, CaseEvent.id)")
    clocks: Mapped[list[Clock]] = relationship(back_populates="case", cascade="all, delete-orphan")


class Referral(Base):
    """One web-form submission; `form_id` makes intake idempotent. Several may link to one case."""

    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source_file: Mapped[str | None] = mapped_column(String(255))
    linked: Mapped[bool] = mapped_column(Boolean, default=False)  # True: joined an existing case
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseEvent(Base):
    """What happened on a case, on which date, recorded when and by which command."""

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_event_on", "event", "on"),
        Index("ix_case_events_on", "on"),  # 0021: the monthly report
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    health: Mapped[bool] = mapped_column(Boolean, default=False)
    cert_type: Mapped[str | None] = mapped_column(String(20))
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # e.g. breach reason, cancelled_by
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(64))  # the command or flow that recorded it
    case: Mapped[Case] = relationship(back_populates="events")


class Clock(Base):
    """A persisted clock, so the daily sweep is one indexed query over `(state, target)` (and the
    certificate work one over `(name, state)`)."""

    __tablename__ = "clocks"
    __table_args__ = (
        UniqueConstraint("case_id", "name"),
        Index("ix_clocks_state_target", "state", "target"),
        Index("ix_clocks_name_state", "name", "state"),
        Index("ix_clocks_due_name", "due", "name"),  # 0021: the monthly report
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    due: Mapped[date] = mapped_column(Date)
    target: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))  # open | met | missed | not_applicable
    owner: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    started_on: Mapped[date] = mapped_column(Date)
    met_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(String(120), default="")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    case: Mapped[Case] = relationship(back_populates="clocks")


class Certificate(Base):
    """A mediation certificate; one per (case, type, trigger date): issuing twice is refused."""

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("case_id", "type", "trigger_on"),
        Index("ix_certificates_status_trigger", "status", "trigger_on"),  # 0020: the today screen's look-up
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    type: Mapped[str] = mapped_column(String(20))  # declined | withdrawn | deemed | after-mediation
    trigger_on: Mapped[date] = mapped_column(Date)
    issued_on: Mapped[date] = mapped_column(Date)
    adviser: Mapped[str | None] = mapped_column(String(200))
    pdf_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(
        String(20), default="issued"
    )  # awaiting_approval | issued | refused (0003: 16 -> 20)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approval_note: Mapped[str | None] = mapped_column(String(500))  # migration 0003: who decided, and why


class AuditEntry(Base):
    """Who did what to which case (references only: no personal data in `detail`)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # 0014: real wall-clock time
    operator: Mapped[str | None] = mapped_column(String(120))  # 0014: the person (DRS_OPERATOR, OS user, form)


class Meta(Base):
    """Key/value facts about the data: rules and holiday versions the clocks were computed under."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
