"""Families' expense claims and the batches sent to each LA's finance team. Money in pence."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.db.base import Base, UTCDateTime


class ClaimBatch(Base):
    __tablename__ = "claim_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_ref: Mapped[str] = mapped_column(String(40), unique=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authorities.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claim_count: Mapped[int] = mapped_column(Integer)
    total_pence: Mapped[int] = mapped_column(Integer)
    path: Mapped[str | None] = mapped_column(String(500))


class ExpenseClaim(Base):
    """One claim line. Status: pending | approved | query | held | rejected | sent | paid."""

    __tablename__ = "expense_claims"
    __table_args__ = (
        Index("ix_claims_status_la", "status", "case_id"),
        Index("ix_claims_dupe", "claimant_email", "session_date", "category", "amount_pence"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("mediation_sessions.id"))
    session_date: Mapped[date] = mapped_column(Date)
    claimant_name: Mapped[str | None] = mapped_column(String(200))
    claimant_email: Mapped[str | None] = mapped_column(String(254))
    category: Mapped[str] = mapped_column(String(20))
    miles: Mapped[Decimal | None] = mapped_column(Numeric(9, 2))
    rate_pence: Mapped[int | None] = mapped_column(Integer)
    amount_pence: Mapped[int] = mapped_column(Integer)
    receipt: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("claim_batches.id"), index=True)
    paid_on: Mapped[date | None] = mapped_column(Date)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
