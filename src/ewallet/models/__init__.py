"""ORM tables, one module per aggregate. Importing this package registers them all."""

from ewallet.models.counter import CounterDeposit, LargeCashRecord
from ewallet.models.funding import Card, Topup, Withdrawal
from ewallet.models.help import HelpArticle, HelpArticleRevision, HelpFeedback
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
from ewallet.models.merchants import Merchant, WebhookDelivery
from ewallet.models.messaging import SmsMessage
from ewallet.models.operations import (
    AuditChainHead,
    AuditEvent,
    MaintenanceWindow,
    Staff,
    StaffSession,
)
from ewallet.models.outbox import OutboxEvent
from ewallet.models.payments import Order, Payment, Refund
from ewallet.models.reconciliation import ReconciliationItem, ReconciliationRun
from ewallet.models.spending import SpendRecord
from ewallet.models.transfers import Transfer

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "AuthSession",
    "Card",
    "CounterDeposit",
    "Device",
    "HelpArticle",
    "HelpArticleRevision",
    "HelpFeedback",
    "IdempotencyRecord",
    "LargeCashRecord",
    "LedgerAccount",
    "LedgerHold",
    "LedgerPosting",
    "LedgerTransaction",
    "MaintenanceWindow",
    "Merchant",
    "Notification",
    "Order",
    "OutboxEvent",
    "Payment",
    "ReconciliationItem",
    "ReconciliationRun",
    "RefreshToken",
    "Refund",
    "SmsMessage",
    "SpendRecord",
    "Staff",
    "StaffSession",
    "StepUpChallenge",
    "Topup",
    "TotpRecoveryCode",
    "Transfer",
    "User",
    "VerificationCode",
    "WebhookDelivery",
    "Withdrawal",
]
