"""ORM tables, one module per aggregate. Importing this package registers them all."""

from ewallet.models.account_closure import ClosedAccount, DataCopy
from ewallet.models.aml import AmlExport, AmlReportCandidate
from ewallet.models.bills import Biller, BillPayment
from ewallet.models.card_payments import CardPayment
from ewallet.models.card_transfers import CardTransfer
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
from ewallet.models.merchant_users import MerchantUser, MerchantUserSession
from ewallet.models.merchants import Merchant, MerchantApiKey, WebhookDelivery
from ewallet.models.messaging import SmsMessage
from ewallet.models.money_requests import MoneyRequest, ReceiveCode, SplitBill
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
from ewallet.models.payment_links import PaymentLink
from ewallet.models.payments import Order, Payment, Refund
from ewallet.models.phone_change import PhoneChangeRequest
from ewallet.models.reconciliation import ReconciliationItem, ReconciliationRun
from ewallet.models.risk import RiskAlert
from ewallet.models.risk_watchlist import WatchlistEntry, WatchlistHit, WatchlistLoad
from ewallet.models.settlement import PayoutAccount, Settlement
from ewallet.models.spending import SpendRecord
from ewallet.models.static_qr import MerchantStore, StaticQrCode
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
from ewallet.models.transfers import Transfer, TransferSettings

__all__ = [
    "AmlExport",
    "AmlReportCandidate",
    "AuditChainHead",
    "AuditEvent",
    "AuthSession",
    "BillPayment",
    "Biller",
    "Card",
    "CardPayment",
    "CardTransfer",
    "ClosedAccount",
    "CounterDeposit",
    "DataCopy",
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
    "MerchantApiKey",
    "MerchantStore",
    "MerchantUser",
    "MerchantUserSession",
    "MoneyRequest",
    "Notification",
    "Order",
    "OutboxEvent",
    "PasswordFreeSetting",
    "Payment",
    "PaymentCodeCharge",
    "PaymentCodeGuard",
    "PaymentCodeSecret",
    "PaymentLink",
    "PayoutAccount",
    "PhoneChangeRequest",
    "ReceiveCode",
    "ReconciliationItem",
    "ReconciliationRun",
    "RefreshToken",
    "Refund",
    "RiskAlert",
    "Settlement",
    "SmsMessage",
    "SpendRecord",
    "SplitBill",
    "Staff",
    "StaffSession",
    "StaticQrCode",
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
    "TransferSettings",
    "User",
    "VerificationCode",
    "WatchlistEntry",
    "WatchlistHit",
    "WatchlistLoad",
    "WebhookDelivery",
    "Withdrawal",
]
