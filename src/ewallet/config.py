"""Settings, read once from ``EWALLET_*`` environment variables.

In development, missing secrets are generated once and kept under ``./var/`` so that
restarts keep sessions and hashes valid; in production a missing secret stops start-up.
"""

from __future__ import annotations

import ipaddress
import secrets
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class MissingSecretError(RuntimeError):
    """A secret setting is required in production and was not given."""


DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/ewallet.db"
# Development's default trusted proxies: a proxy on the same machine.
LOOPBACK_PROXIES = "127.0.0.0/8,::1"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Settings(BaseSettings):
    """Every setting of the wallet; the env var is the field name upper-cased with ``EWALLET_``."""

    model_config = SettingsConfigDict(env_prefix="EWALLET_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    pin_pepper: SecretStr | None = None
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    hotline: str = "95588"
    # The payment institution's name, printed on every page of statements and on receipts.
    issuer_name: Annotated[str, Field(min_length=1, max_length=60)] = "ewallet"
    # Help and support (docs/help-search.md): contact details shown by GET /v1/help/contact.
    support_hours: Annotated[
        str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$")
    ] = "00:00-24:00"
    support_email: str = "service@ewallet.example"
    support_chat_enabled: bool = False
    # Online chat and call-backs (docs/chat.md).
    support_chat_bus: Literal["auto", "memory", "postgres"] = "auto"
    support_chat_bot_min_score: Annotated[float, Field(ge=0)] = 8.0
    support_chat_bot_unhelpful_limit: Annotated[int, Field(ge=1)] = 2
    support_chat_presence_seconds: Annotated[float, Field(gt=0)] = 45.0
    support_chat_heartbeat_seconds: Annotated[float, Field(gt=0)] = 15.0
    support_chat_auth_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    support_callback_max_days: Annotated[int, Field(ge=1, le=90)] = 14
    support_callback_min_window_minutes: Annotated[int, Field(ge=5)] = 30
    support_callback_open_max: Annotated[int, Field(ge=1)] = 3
    help_load_defaults: bool = True
    help_feedback_per_ip_hour: Annotated[int, Field(ge=1)] = 30
    sms_provider: str = "outbox"
    smtp_url: str | None = None
    smtp_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    # Support tickets and mail (docs/support.md). SLA minutes per priority; JSON in the env.
    support_sla_first_response_minutes: dict[str, Annotated[int, Field(ge=1)]] = {
        "urgent": 30,
        "high": 120,
        "normal": 480,
        "low": 1440,
    }
    support_sla_resolution_minutes: dict[str, Annotated[int, Field(ge=1)]] = {
        "urgent": 240,
        "high": 1440,
        "normal": 4320,
        "low": 10080,
    }
    support_agent_max_open_tickets: Annotated[int, Field(ge=1)] = 25
    support_mail_max_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    support_attachment_max_bytes: Annotated[int, Field(ge=1)] = 5 * 1024 * 1024
    # Comma-separated MIME types kept from incoming mail; others are noted on the ticket.
    support_attachment_types: str = "image/png,image/jpeg,image/gif,application/pdf,text/plain"
    bank_url: str | None = None
    # The merchant key sent to the bank as X-Bank-Key; unset: derived from secret_key.
    bank_key: SecretStr | None = None
    bank_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    # How often pending card top-ups and withdrawals are settled by asking the bank (0: never;
    # the worker, and in development the API process, run the job). docs/funding.md.
    settle_interval_seconds: Annotated[float, Field(ge=0)] = 60.0
    # How often the ledger's upkeep runs: hot accounts' balance deltas folded into their
    # rows, holds past their expiry expired (0: never; every API process and the worker
    # run it). docs/ledger.md.
    ledger_upkeep_interval_seconds: Annotated[float, Field(ge=0)] = 1.0
    # A debit or credit the bank has no record of is only given up on after this long.
    bank_unknown_grace_seconds: Annotated[int, Field(ge=0)] = 1800
    # The in-process sandbox bank's own database; unset: var_dir/sandbox-bank.db.
    sandbox_bank_db_url: str | None = None
    # Merchant and biller settlement (docs/settlement.md): business day D is paid out on
    # D + delay (Asia/Shanghai); the worker runs the day's settlement every interval (0: never).
    settlement_delay_days: Annotated[int, Field(ge=0, le=30)] = 1
    settlement_interval_seconds: Annotated[float, Field(ge=0)] = 3600.0
    # PSPs (docs/psp.md). An unset URL means the in-process sandbox; unset key paths mean
    # development keys generated under var_dir (refused in production).
    psp_public_url: str | None = None
    psp_alipay_url: str | None = None
    psp_alipay_app_id: str = "2021000000000001"
    psp_alipay_private_key_path: Path | None = None
    psp_alipay_public_key_path: Path | None = None
    psp_wechat_url: str | None = None
    psp_wechat_mchid: str = "1900000001"
    psp_wechat_appid: str = "wx00000000000dev01"
    psp_wechat_private_key_path: Path | None = None
    psp_wechat_cert_serial: str | None = None
    psp_wechat_platform_key_path: Path | None = None
    psp_wechat_platform_key_id: str | None = None
    psp_wechat_api_v3_key: SecretStr | None = None
    psp_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    var_dir: Path = Path("var")
    log_level: str = "INFO"
    log_json: bool = True
    # Database pool and ledger group commit.
    db_pool_size: Annotated[int, Field(ge=1, le=512)] = 20
    db_echo: bool = False
    ledger_batch_max: Annotated[int, Field(ge=1, le=1024)] = 128
    ledger_flushers: Annotated[int, Field(ge=1, le=64)] = 2
    # Idempotency records are kept this long before they may be purged.
    idempotency_ttl_hours: Annotated[int, Field(ge=1)] = 24
    # Outbox worker.
    outbox_batch_size: Annotated[int, Field(ge=1, le=1000)] = 100
    outbox_poll_seconds: Annotated[float, Field(gt=0)] = 0.5
    outbox_max_attempts: Annotated[int, Field(ge=1)] = 12
    # Events a relay delivers at once (an order's or a phone's events still one by one).
    outbox_concurrency: Annotated[int, Field(ge=1, le=256)] = 16
    # In development the API process also delivers the outbox (SMS arrive without a worker).
    embedded_worker: bool = True
    # Withdrawals: a free quota per user (minor units, lifetime), then a rate with a minimum.
    withdrawal_free_quota_minor: Annotated[int, Field(ge=0)] = 20_000_00
    withdrawal_fee_rate: Annotated[Decimal, Field(ge=0, le=Decimal("0.05"))] = Decimal("0.001")
    withdrawal_min_fee_minor: Annotated[int, Field(ge=0)] = 10
    # Merchant fees (docs/merchant-api.md "Fees"): basis points of each payment with a
    # minimum in fen, both overridable per merchant; refunds return the fee proportionally
    # ("proportional") or keep it ("none").
    merchant_fee_rate_bp: Annotated[int, Field(ge=0, le=1000)] = 38
    merchant_fee_minimum_minor: Annotated[int, Field(ge=0, le=100_00)] = 0
    merchant_fee_refund_policy: Literal["proportional", "none"] = "proportional"
    # Counter cash (docs/counter-deposits.md): deposits of at least this many fen wait for a
    # second staff member and leave a large-cash record; the branch when a teller names none.
    large_cash_threshold_minor: Annotated[int, Field(ge=1)] = 50_000_00
    counter_default_branch: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = "HQ"
    # Watch-list screening (docs/risk-watchlist.md): the least similarity score (0-100) of a
    # name that is not an exact normalised match for it to count as a match.
    watchlist_match_threshold: Annotated[int, Field(ge=50, le=100)] = 90
    # Risk rules (docs/risk-rules.md): how often a process re-reads which rule set is active.
    risk_rules_refresh_seconds: Annotated[float, Field(ge=0, le=60)] = 2.0
    # The review queue (docs/risk-review.md): a held movement is due a staff decision this
    # many minutes after it was held (its SLA; the customer is told when to expect it).
    risk_review_sla_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 240
    # Anti-money-laundering reports (docs/aml-reports.md): a customer's or merchant's day
    # at or above these totals (fen) is a large-value report. Defaults: PBoC Order [2016]
    # No. 3 -- cash ¥50,000; a person's transfers ¥500,000; an entity's ¥2,000,000.
    aml_cash_threshold_minor: Annotated[int, Field(ge=1)] = 50_000_00
    aml_person_transfer_threshold_minor: Annotated[int, Field(ge=1)] = 500_000_00
    aml_entity_transfer_threshold_minor: Annotated[int, Field(ge=1)] = 2_000_000_00
    # How often the worker collects the previous day's large-value transactions (0: never).
    aml_collect_interval_seconds: Annotated[float, Field(ge=0)] = 3600.0
    # Account closure (docs/account-closure.md): a closed account's personal data is kept
    # this many days, then erased (PBoC AML rules: at least five years after the relationship
    # ends); how often the worker erases what is due (0: never); copies of one's data.
    closed_account_retention_days: Annotated[int, Field(ge=1)] = 1826
    closed_account_erase_interval_seconds: Annotated[float, Field(ge=0)] = 3600.0
    data_copies_per_day: Annotated[int, Field(ge=1, le=20)] = 3
    data_copy_ttl_days: Annotated[int, Field(ge=1, le=90)] = 7
    # Spending limits (docs/limits.md), in fen. Class allowances by account class (I is
    # lifetime, II and III per year); daily caps by authentication strength (by class for
    # PIN and PIN+SMS); channel caps; a per-transaction cap per channel. JSON in the env.
    limit_class_allowance_minor: dict[int, int] = Field(
        default_factory=lambda: {1: 1_000_00, 2: 100_000_00, 3: 200_000_00}
    )
    limit_daily_no_pin_minor: Annotated[int, Field(ge=0)] = 1_000_00
    limit_daily_no_pin_count: Annotated[int, Field(ge=0)] = 10
    limit_daily_pin_minor: dict[int, int] = Field(
        default_factory=lambda: {1: 1_000_00, 2: 50_000_00, 3: 200_000_00}
    )
    limit_daily_pin_and_sms_minor: dict[int, int] = Field(
        default_factory=lambda: {1: 1_000_00, 2: 100_000_00, 3: 500_000_00}
    )
    limit_daily_payment_code_minor: Annotated[int, Field(ge=0)] = 1_000_00
    limit_daily_static_qr_minor: Annotated[int, Field(ge=0)] = 500_00
    # Card (quick) payments, per user per China day (PBoC 2015 网络支付办法 art. 24: 5,000
    # yuan a day with two factors -- here the signed-in device and the payment password;
    # 1,000 with fewer). docs/card-payments.md.
    card_payment_daily_limit_minor: Annotated[int, Field(ge=0)] = 5_000_00
    limit_per_transaction_minor: dict[str, int] = Field(
        default_factory=lambda: {
            "payment": 50_000_00,
            "payment_code": 5_000_00,
            "static_qr": 500_00,
            "transfer": 50_000_00,
            "bill": 50_000_00,
            "withdrawal": 50_000_00,
        }
    )
    # Payment-code guessing (docs/payment-code.md): this many unknown or expired codes per
    # merchant key -- and per terminal, when charges name one -- within the window refuse
    # every charge with a code for the cool-down (429 too_many_attempts), audited and alerted.
    payment_code_failures_per_key: Annotated[int, Field(ge=1)] = 10
    payment_code_failures_per_terminal: Annotated[int, Field(ge=1)] = 10
    payment_code_failure_window_seconds: Annotated[int, Field(ge=1)] = 300
    payment_code_cooldown_seconds: Annotated[int, Field(ge=1)] = 900
    # Sessions.
    access_token_minutes: Annotated[int, Field(ge=1, le=60)] = 15
    refresh_token_days: Annotated[int, Field(ge=1, le=365)] = 30
    staff_session_hours: Annotated[int, Field(ge=1, le=24)] = 8
    # The staff console locks a browser left this long without use (password to unlock).
    staff_idle_minutes: Annotated[int, Field(ge=1, le=240)] = 15
    # The merchant portal: sessions end this long after sign-in; an idle browser locks.
    merchant_session_hours: Annotated[int, Field(ge=1, le=24)] = 8
    merchant_idle_minutes: Annotated[int, Field(ge=1, le=240)] = 15
    # A portal refund above this amount (fen) asks the person's authenticator code.
    merchant_refund_totp_above_minor: Annotated[int, Field(ge=0)] = 500_00
    # Password hashing (argon2id); see docs/security.md for the measured cost.
    argon2_time_cost: Annotated[int, Field(ge=1)] = 2
    argon2_memory_kib: Annotated[int, Field(ge=8 * 1024)] = 19 * 1024
    argon2_parallelism: Annotated[int, Field(ge=1)] = 1
    # Login protection: progressive delay, then a temporary lock of the account.
    login_lock_threshold: Annotated[int, Field(ge=3)] = 5
    login_lock_minutes: Annotated[int, Field(ge=1)] = 15
    # Payment password: 3 wrong entries lock it for 3 hours.
    payment_password_max_failures: Annotated[int, Field(ge=1)] = 3
    payment_password_lock_hours: Annotated[int, Field(ge=1)] = 3
    # How long a PIN check waits for a free slot of the attempt budget (checks in flight)
    # before answering 503 server_busy -- never too_many_attempts (docs/security.md).
    payment_password_slot_wait_seconds: Annotated[float, Field(gt=0, le=600)] = 10.0
    # A money request (and each share of a split bill) stays open this long, then expires
    # (docs/money-requests.md).
    money_request_ttl_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 72
    # Authenticator (TOTP) and recovery codes, per account across challenges: this many
    # wrong codes within the window lock them for a while; the owner is told.
    totp_max_failures: Annotated[int, Field(ge=1)] = 5
    totp_failure_window_minutes: Annotated[int, Field(ge=1)] = 15
    totp_lock_minutes: Annotated[int, Field(ge=1)] = 30
    # Changes (and resets) per user in any 24 hours: each answers a question about the
    # other password's digits (identity/change_caps.py).
    login_password_changes_per_day: Annotated[int, Field(ge=1)] = 5
    payment_password_changes_per_day: Annotated[int, Field(ge=1)] = 5
    # SMS verification codes.
    sms_code_ttl_seconds: Annotated[int, Field(ge=60)] = 300
    sms_code_max_attempts: Annotated[int, Field(ge=1)] = 5
    sms_resend_seconds: Annotated[int, Field(ge=1)] = 60
    sms_per_phone_hour: Annotated[int, Field(ge=1)] = 5
    sms_per_phone_day: Annotated[int, Field(ge=1)] = 10
    sms_per_ip_hour: Annotated[int, Field(ge=1)] = 30
    sms_http_url: str | None = None
    sms_http_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    # Sign-in attempts per client address (the account itself locks separately).
    login_per_ip_minute: Annotated[int, Field(ge=1)] = 20
    # Deployment (docs/security.md). Proxies whose X-Forwarded-For / X-Forwarded-Proto are
    # believed: comma-separated addresses or CIDR networks. Unset: loopback in development,
    # none in production; empty: none. Per-IP limits and the checkout cookie's Secure flag
    # depend on it.
    trusted_proxies: str | None = None
    # A bearer token for GET /metrics. Unset: open in development, 404 in production.
    metrics_token: SecretStr | None = None
    # Support tickets a customer may have open at once, and open per rolling 24 hours.
    support_ticket_open_max: Annotated[int, Field(ge=1)] = 5
    support_tickets_per_day: Annotated[int, Field(ge=1)] = 10
    # Merchant orders and webhooks. The public URL is where customers' browsers reach the
    # checkout page (and what QR payloads point to); unset: the PSP public URL, else HOST:PORT.
    public_url: str | None = None
    order_default_expiry_seconds: Annotated[int, Field(ge=60, le=7200)] = 900
    order_max_expiry_seconds: Annotated[int, Field(ge=60, le=86400)] = 7200
    webhook_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    # Merchant webhooks to private/loopback addresses: None = allowed only in development.
    webhook_allow_private_addresses: bool | None = None
    # Bills (docs/bills.md). An unset biller URL means the in-process sandbox biller; its
    # key, unset, is derived from secret_key. A payment notice left unanswered is sent again
    # through the outbox, first after bill_delivery_retry_seconds.
    biller_url: str | None = None
    biller_key: SecretStr | None = None
    biller_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 8.0
    bill_delivery_retry_seconds: Annotated[float, Field(ge=1)] = 30.0
    sandbox_biller_db_url: str | None = None

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            missing = [name for name in ("secret_key", "pin_pepper") if getattr(self, name) is None]
            if missing:
                names = ", ".join("EWALLET_" + n.upper() for n in missing)
                raise MissingSecretError(f"production needs these settings: {names}")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str | None) -> str | None:
        if value is not None:
            _networks(value)  # a typo fails start-up instead of trusting nobody silently
        return value

    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        """The proxies whose forwarded-client headers are believed (docs/security.md)."""
        if self.trusted_proxies is not None:
            return _networks(self.trusted_proxies)
        if self.env is Environment.PRODUCTION:
            return ()
        return _networks(LOOPBACK_PROXIES)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_dev_secrets(self) -> Settings:
        """Fill missing secrets from files under ``var_dir`` (created on first use)."""
        if self.env is Environment.PRODUCTION:
            return self
        updates: dict[str, SecretStr] = {}
        for name in ("secret_key", "pin_pepper"):
            if getattr(self, name) is None:
                updates[name] = SecretStr(_dev_secret(self.var_dir / f"{name}.secret"))
        return self.model_copy(update=updates) if updates else self


def _networks(value: str) -> tuple[IPNetwork, ...]:
    """``10.0.0.0/8, 192.0.2.7`` as networks; raises ValueError on anything else."""
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False)
        for item in value.split(",")
        if item.strip()
    )


def _dev_secret(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value + "\n", encoding="ascii")
    path.chmod(0o600)
    return value


def load_settings() -> Settings:
    """Settings from the environment, with development secrets filled in."""
    return Settings().with_dev_secrets()
