"""ORM tables, one module per aggregate. Importing this package registers them all."""

from ewallet.models.funding import Card, Topup, Withdrawal
from ewallet.models.idempotency import IdempotencyRecord
from ewallet.models.identity import (
    AuthSession,
    Device,
    Notification,
    RefreshToken,
    StepUpChallenge,
    TotpRecoveryCode,
    User,
    VerificationCode,
)
from ewallet.models.ledger import LedgerAccount, LedgerHold, LedgerPosting, LedgerTransaction
from ewallet.models.messaging import SmsMessage
from ewallet.models.operations import (
    AuditChainHead,
    AuditEvent,
    MaintenanceWindow,
    Staff,
    StaffSession,
)
from ewallet.models.outbox import OutboxEvent

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "AuthSession",
    "Card",
    "Device",
    "IdempotencyRecord",
    "LedgerAccount",
    "LedgerHold",
    "LedgerPosting",
    "LedgerTransaction",
    "MaintenanceWindow",
    "Notification",
    "OutboxEvent",
    "RefreshToken",
    "SmsMessage",
    "Staff",
    "StaffSession",
    "StepUpChallenge",
    "Topup",
    "TotpRecoveryCode",
    "User",
    "VerificationCode",
    "Withdrawal",
]
