"""Every table's SQLAlchemy Core handle, declared once (repositories import them from here).

The ORM classes in the sibling modules define the tables; Core statements on the hot paths
and in repositories use these handles.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from ewallet.models.bills import Biller, BillPayment
from ewallet.models.counter import CounterDeposit, LargeCashRecord
from ewallet.models.funding import Card, Topup, Withdrawal
from ewallet.models.help import HelpArticle, HelpArticleRevision, HelpFeedback
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
from ewallet.models.support import EmailMessage, SupportAgentState
from ewallet.models.transfers import Transfer

audit_chain_head = cast(Table, AuditChainHead.__table__)
audit_events = cast(Table, AuditEvent.__table__)
bill_payments = cast(Table, BillPayment.__table__)
billers = cast(Table, Biller.__table__)
cards = cast(Table, Card.__table__)
counter_deposits = cast(Table, CounterDeposit.__table__)
devices = cast(Table, Device.__table__)
email_messages = cast(Table, EmailMessage.__table__)
help_article_revisions = cast(Table, HelpArticleRevision.__table__)
help_articles = cast(Table, HelpArticle.__table__)
help_feedback = cast(Table, HelpFeedback.__table__)
large_cash_records = cast(Table, LargeCashRecord.__table__)
ledger_accounts = cast(Table, LedgerAccount.__table__)
ledger_balance_deltas = cast(Table, LedgerBalanceDelta.__table__)
ledger_holds = cast(Table, LedgerHold.__table__)
ledger_postings = cast(Table, LedgerPosting.__table__)
ledger_transactions = cast(Table, LedgerTransaction.__table__)
maintenance_windows = cast(Table, MaintenanceWindow.__table__)
merchants = cast(Table, Merchant.__table__)
notifications = cast(Table, Notification.__table__)
orders = cast(Table, Order.__table__)
password_free_settings = cast(Table, PasswordFreeSetting.__table__)
payment_code_charges = cast(Table, PaymentCodeCharge.__table__)
payment_code_guards = cast(Table, PaymentCodeGuard.__table__)
payment_code_secrets = cast(Table, PaymentCodeSecret.__table__)
payments = cast(Table, Payment.__table__)
reconciliation_items = cast(Table, ReconciliationItem.__table__)
reconciliation_runs = cast(Table, ReconciliationRun.__table__)
refresh_tokens = cast(Table, RefreshToken.__table__)
refunds = cast(Table, Refund.__table__)
risk_alerts = cast(Table, RiskAlert.__table__)
sessions = cast(Table, AuthSession.__table__)
sms_messages = cast(Table, SmsMessage.__table__)
spend_records = cast(Table, SpendRecord.__table__)
staff = cast(Table, Staff.__table__)
staff_sessions = cast(Table, StaffSession.__table__)
step_up_challenges = cast(Table, StepUpChallenge.__table__)
support_agent_states = cast(Table, SupportAgentState.__table__)
topups = cast(Table, Topup.__table__)
totp_recovery_codes = cast(Table, TotpRecoveryCode.__table__)
transfers = cast(Table, Transfer.__table__)
users = cast(Table, User.__table__)
verification_codes = cast(Table, VerificationCode.__table__)
webhook_deliveries = cast(Table, WebhookDelivery.__table__)
withdrawals = cast(Table, Withdrawal.__table__)
