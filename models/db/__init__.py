"""Database tables (SQLAlchemy 2 typed models). Import this package to get the full metadata."""

from models.db.base import Base, UTCDateTime
from models.db.cases import AuditEntry, Case, CaseEvent, Certificate, Clock, LaPolicy, LocalAuthority, Meta, Referral
from models.db.claims import ClaimBatch, ExpenseClaim
from models.db.contacts import ContactProblem
from models.db.outbox import OutboxAttachment, OutboxEmail
from models.db.sessions import MediationSession, Mediator, SessionAttendee

__all__ = [
    "AuditEntry",
    "Base",
    "Case",
    "CaseEvent",
    "Certificate",
    "ClaimBatch",
    "Clock",
    "ContactProblem",
    "ExpenseClaim",
    "LaPolicy",
    "LocalAuthority",
    "MediationSession",
    "Mediator",
    "Meta",
    "OutboxAttachment",
    "OutboxEmail",
    "Referral",
    "SessionAttendee",
    "UTCDateTime",
]
