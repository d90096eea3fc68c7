"""Contact problems: an email that could not be delivered (a bounce), until the team resolves it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.db.base import Base, UTCDateTime


class ContactProblem(Base):
    """One undelivered outbox email (migration 0015). Holds only the reason code, the plain-words
    reason and the outbox link — never the bounce message itself (that stays in the bounce
    mailbox's `processed` folder until retention empties it).

    `hard` False is a soft (4.x.x) bounce still being retried: it is not a contact problem yet and
    becomes one (`hard` True) if it still fails 3 working days after `since`. `la_id` is set when
    the address belongs to an LA's register row. Open while `resolved_at` is null.
    """

    __tablename__ = "contact_problems"
    __table_args__ = (Index("ix_contact_problems_open", "resolved_at", "hard"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    la_id: Mapped[int | None] = mapped_column(ForeignKey("local_authorities.id", ondelete="SET NULL"), index=True)
    recipient_role: Mapped[str] = mapped_column(
        String(16)
    )  # family | la | supporter | mediator | claimant | team | other
    la_field: Mapped[str | None] = mapped_column(String(24))  # sen_team_email | finance_email | contract_email
    status_code: Mapped[str] = mapped_column(String(12))  # RFC 3463 enhanced status, e.g. 5.1.1
    reason: Mapped[str] = mapped_column(String(160))  # plain words from a fixed table, never the diagnostic
    source: Mapped[str] = mapped_column(String(8))  # dsn | smtp
    hard: Mapped[bool] = mapped_column(Boolean, default=True)
    statutory: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(
        String(24)
    )  # corrected | reached-phone | reached-letter | register-corrected
    resolution_note: Mapped[str | None] = mapped_column(Text)  # personal: cleared by retention
    resent_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
