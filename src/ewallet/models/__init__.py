"""ORM tables, one module per aggregate. Importing this package registers them all."""

from ewallet.models.bills import Biller, BillPayment
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
from ewallet.models.ledger import (
    LedgerAccount,
    LedgerBalanceDelta,
    LedgerHold,
    LedgerPosting,
    LedgerTransaction,
)
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
from ewallet.models.payment_codes import (
    PasswordFreeSetting,
    PaymentCodeCharge,
    PaymentCodeGuard,
    PaymentCodeSecret,
)
from ewallet.models.payments import Order, Payment, Refund
from ewallet.models.reconciliation import ReconciliationItem, ReconciliationRun
from ewallet.models.risk import RiskAlert
from ewallet.models.spending import SpendRecord
from ewallet.models.support import (
    EmailMessage,
    SupportAgentState,
    SupportAttachment,
    SupportCannedReply,
    SupportCustomerEmail,
    SupportInboundMail,
    SupportTicket,
    SupportTicketMessage,
)
from ewallet.models.support_chat import (
    SupportAgentPresence,
    SupportCallback,
    SupportChat,
    SupportChatMessage,
)
from ewallet.models.transfers import Transfer

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "AuthSession",
    "BillPayment",
    "Biller",
    "Card",
    "CounterDeposit",
    "Device",
    "EmailMessage",
    "HelpArticle",
    "HelpArticleRevision",
    "HelpFeedback",
    "IdempotencyRecord",
    "LargeCashRecord",
    "LedgerAccount",
    "LedgerBalanceDelta",
    "LedgerHold",
    "LedgerPosting",
    "LedgerTransaction",
    "MaintenanceWindow",
    "Merchant",
    "Notification",
    "Order",
    "OutboxEvent",
    "PasswordFreeSetting",
    "Payment",
    "PaymentCodeCharge",
    "PaymentCodeGuard",
    "PaymentCodeSecret",
    "ReconciliationItem",
    "ReconciliationRun",
    "RefreshToken",
    "Refund",
    "RiskAlert",
    "SmsMessage",
    "SpendRecord",
    "Staff",
    "StaffSession",
    "StepUpChallenge",
    "SupportAgentPresence",
    "SupportAgentState",
    "SupportAttachment",
    "SupportCallback",
    "SupportCannedReply",
    "SupportChat",
    "SupportChatMessage",
    "SupportCustomerEmail",
    "SupportInboundMail",
    "SupportTicket",
    "SupportTicketMessage",
    "Topup",
    "TotpRecoveryCode",
    "Transfer",
    "User",
    "VerificationCode",
    "WebhookDelivery",
    "Withdrawal",
]
