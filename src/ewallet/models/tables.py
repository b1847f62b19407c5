"""Every table's SQLAlchemy Core handle, declared once (repositories import them from here).

The ORM classes in the sibling modules define the tables (importing the package registers
them all on the one ``MetaData``); Core statements on the hot paths and in repositories use
these handles, looked up by table name.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Table

import ewallet.models  # noqa: F401  (registers every table on Base.metadata)
from ewallet.kit.db.base import Base


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


aml_exports: Final = _table("aml_exports")
aml_report_candidates: Final = _table("aml_report_candidates")
audit_chain_checkpoint: Final = _table("audit_chain_checkpoint")
audit_chain_head: Final = _table("audit_chain_head")
audit_events: Final = _table("audit_events")
bill_payments: Final = _table("bill_payments")
billers: Final = _table("billers")
card_payments: Final = _table("card_payments")
card_transfers: Final = _table("card_transfers")
cards: Final = _table("cards")
closed_accounts: Final = _table("closed_accounts")
counter_deposits: Final = _table("counter_deposits")
data_copies: Final = _table("data_copies")
devices: Final = _table("devices")
email_messages: Final = _table("email_messages")
held_payments: Final = _table("held_payments")
help_article_revisions: Final = _table("help_article_revisions")
help_articles: Final = _table("help_articles")
help_feedback: Final = _table("help_feedback")
large_cash_records: Final = _table("large_cash_records")
ledger_accounts: Final = _table("ledger_accounts")
ledger_balance_deltas: Final = _table("ledger_balance_deltas")
ledger_holds: Final = _table("ledger_holds")
ledger_postings: Final = _table("ledger_postings")
ledger_transactions: Final = _table("ledger_transactions")
maintenance_windows: Final = _table("maintenance_windows")
merchant_user_sessions: Final = _table("merchant_user_sessions")
merchant_users: Final = _table("merchant_users")
merchant_api_keys: Final = _table("merchant_api_keys")
merchant_stores: Final = _table("merchant_stores")
merchants: Final = _table("merchants")
money_receive_codes: Final = _table("money_receive_codes")
money_request_splits: Final = _table("money_request_splits")
money_requests: Final = _table("money_requests")
notifications: Final = _table("notifications")
orders: Final = _table("orders")
password_free_settings: Final = _table("password_free_settings")
payment_code_charges: Final = _table("payment_code_charges")
payment_code_funding: Final = _table("payment_code_funding")
payment_code_guards: Final = _table("payment_code_guards")
payment_code_secrets: Final = _table("payment_code_secrets")
payment_links: Final = _table("payment_links")
payments: Final = _table("payments")
payout_accounts: Final = _table("payout_accounts")
phone_change_requests: Final = _table("phone_change_requests")
reconciliation_items: Final = _table("reconciliation_items")
reconciliation_runs: Final = _table("reconciliation_runs")
refresh_tokens: Final = _table("refresh_tokens")
refunds: Final = _table("refunds")
risk_alerts: Final = _table("risk_alerts")
risk_decisions: Final = _table("risk_decisions")
risk_reviews: Final = _table("risk_reviews")
risk_rule_hits: Final = _table("risk_rule_hits")
risk_rule_sets: Final = _table("risk_rule_sets")
risk_rules: Final = _table("risk_rules")
sessions: Final = _table("auth_sessions")
settlements: Final = _table("settlements")
sms_messages: Final = _table("sms_messages")
spend_records: Final = _table("spend_records")
static_qr_codes: Final = _table("static_qr_codes")
staff: Final = _table("staff")
staff_sessions: Final = _table("staff_sessions")
staff_totp_resets: Final = _table("staff_totp_resets")
step_up_challenges: Final = _table("step_up_challenges")
support_agent_states: Final = _table("support_agent_states")
support_customer_emails: Final = _table("support_customer_emails")
topups: Final = _table("topups")
totp_recovery_codes: Final = _table("totp_recovery_codes")
transfer_settings: Final = _table("transfer_settings")
transfers: Final = _table("transfers")
users: Final = _table("users")
verification_codes: Final = _table("verification_codes")
watchlist_entries: Final = _table("watchlist_entries")
watchlist_hits: Final = _table("watchlist_hits")
watchlist_loads: Final = _table("watchlist_loads")
webhook_deliveries: Final = _table("webhook_deliveries")
withdrawals: Final = _table("withdrawals")
