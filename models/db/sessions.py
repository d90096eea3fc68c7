"""Mediators, mediation sessions (meetings) and their attendees."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db.base import Base, UTCDateTime


class Mediator(Base):
    __tablename__ = "mediators"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MediationSession(Base):
    """A mediation meeting. `uid` is the calendar UID; `sequence` rises on every change."""

    __tablename__ = "mediation_sessions"
    __table_args__ = (Index("ix_sessions_status_start", "status", "start_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediators.id"), index=True)
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    venue: Mapped[str | None] = mapped_column(Text)  # address, or None when online
    online_url: Mapped[str | None] = mapped_column(String(500))
    access_notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | cancelled | held
    short_notice_agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(16))  # agreed | partial | not-agreed
    outcome_on: Mapped[date | None] = mapped_column(Date)
    cancelled_by: Mapped[str | None] = mapped_column(String(16))  # family | la | service | icb
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attendees: Mapped[list[SessionAttendee]] = relationship(back_populates="session", cascade="all, delete-orphan")
    mediator: Mapped[Mediator] = relationship()


class SessionAttendee(Base):
    __tablename__ = "session_attendees"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mediation_sessions.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # family | supporter | la | icb | mediator | other
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    authority_to_settle: Mapped[bool] = mapped_column(Boolean, default=False)
    session: Mapped[MediationSession] = relationship(back_populates="attendees")
