"""The feature catalogue: every name a rule's condition may read, its type and meaning.

A feature belongs to one *source* -- where its value comes from. The engine computes only
the features the active rules read, one statement per source it needs
(:mod:`ewallet.risk.rules.features`), so a rule set that reads no velocity never pays for
the velocity query. Money is in yuan (``Decimal``), times are the movement's, windows end
at it and never include the movement being decided (add ``amount`` for that). A feature
with no value (a password never reset, no device given) is null, and a comparison with
null is false.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ewallet.risk.rules.language import ValueType


class Source(StrEnum):
    """Where a feature's value comes from; one statement (at most) per source."""

    MOVEMENT = "movement"  # the movement itself: no statement
    ACCOUNT = "account"  # the spender's row, locked already: no statement
    SECURITY = "security"  # audit events: the latest password and PIN resets
    CARDS = "cards"  # the latest bound card
    DEVICE = "device"  # the device the movement came from
    USER_SPENDS = "user_spends"  # the spender's spend records: velocity, payee novelty
    USUAL_AMOUNT = "usual_amount"  # the spender's recent amounts: their 90th percentile
    PAYEE_SPENDS = "payee_spends"  # spends to the counterparty from anyone
    INFLOW = "inflow"  # credits to the spender's wallet, from the ledger
    TOPUPS = "topups"  # the user's card top-ups
    COUNTER = "counter"  # the user's cash deposits at a bank counter
    WATCHLIST = "watchlist"  # the parties' verified real names against the watch list


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    type: ValueType
    source: Source
    doc: str


N, T, B = ValueType.NUMBER, ValueType.TEXT, ValueType.BOOL

_WINDOWS: Final = (("1m", "1 minute"), ("1h", "1 hour"), ("24h", "24 hours"), ("30d", "30 days"))


def _velocity() -> list[Feature]:
    found: list[Feature] = []
    for suffix, span in _WINDOWS:
        found += [
            Feature(
                f"user_count_{suffix}",
                N,
                Source.USER_SPENDS,
                f"The spender's spends in the last {span}, every channel.",
            ),
            Feature(
                f"user_sum_{suffix}",
                N,
                Source.USER_SPENDS,
                f"Yuan the spender spent in the last {span}, every channel.",
            ),
            Feature(
                f"user_channel_count_{suffix}",
                N,
                Source.USER_SPENDS,
                f"The spender's spends in the last {span} on this movement's channel.",
            ),
            Feature(
                f"user_channel_sum_{suffix}",
                N,
                Source.USER_SPENDS,
                f"Yuan the spender spent in the last {span} on this movement's channel.",
            ),
        ]
    return found


FEATURES: Final[tuple[Feature, ...]] = (
    # The movement.
    Feature("amount", N, Source.MOVEMENT, "The movement's amount in yuan."),
    Feature(
        "channel",
        T,
        Source.MOVEMENT,
        "The movement's kind: payment, payment_code, static_qr, transfer, bill, withdrawal, "
        "card_topup, psp_topup, counter_deposit, sign_in.",
    ),
    Feature(
        "counterparty_type",
        T,
        Source.MOVEMENT,
        "Who is paid: user (a transfer), merchant (payments, payment codes, static QR), "
        "biller (bills); null for a withdrawal to the spender's own card, for money in and "
        "for a sign-in.",
    ),
    Feature(
        "auth",
        T,
        Source.MOVEMENT,
        "How the user confirmed it: none, pin, pin_and_sms (spends and card top-ups); "
        "password or sms (a sign-in); null for PSP top-ups and counter deposits.",
    ),
    Feature("hour_of_day", N, Source.MOVEMENT, "The hour (0-23) in Asia/Shanghai."),
    # The account.
    Feature("account_tier", N, Source.ACCOUNT, "The account class: 1, 2 or 3."),
    Feature("account_age_days", N, Source.ACCOUNT, "Whole days since the account was opened."),
    Feature(
        "pin_failures",
        N,
        Source.ACCOUNT,
        "Wrong payment passwords in a row (the PIN lock's counter; a right one resets it).",
    ),
    Feature(
        "login_failures",
        N,
        Source.ACCOUNT,
        "Wrong login passwords in a row before this movement or sign-in (the login lock's "
        "counter; a right password or an SMS sign-in resets it).",
    ),
    # Security events.
    Feature(
        "hours_since_password_reset",
        N,
        Source.SECURITY,
        "Hours (with fraction) since the login password was last reset through "
        "'forgot password'; null if never.",
    ),
    Feature(
        "hours_since_pin_reset",
        N,
        Source.SECURITY,
        "Hours since the payment password was last reset; null if never.",
    ),
    Feature(
        "hours_since_card_bound",
        N,
        Source.CARDS,
        "Hours since the latest bank card still bound was bound; null if none is.",
    ),
    # The device.
    Feature(
        "device_age_hours",
        N,
        Source.DEVICE,
        "Hours since the spender first used this device; null if the movement names no "
        "device or the device is not the spender's.",
    ),
    Feature(
        "is_new_device",
        B,
        Source.DEVICE,
        "True when the device is not one of the spender's or was first seen less than 24 "
        "hours ago; null if the movement names no device (a sign-in always names one).",
    ),
    # The spender's spends.
    *_velocity(),
    Feature(
        "user_out_sum_30m",
        N,
        Source.USER_SPENDS,
        "Yuan the spender spent in the last 30 minutes, every channel (rapid in-out).",
    ),
    Feature(
        "days_since_last_spend",
        N,
        Source.USER_SPENDS,
        "Days (with fraction) since the spender's previous spend; null if none (dormancy).",
    ),
    Feature(
        "is_new_payee",
        B,
        Source.USER_SPENDS,
        "True when the spender never spent to this counterparty before; null without one.",
    ),
    Feature(
        "usual_amount_p90_30d",
        N,
        Source.USUAL_AMOUNT,
        "The 90th percentile of the spender's amounts over the last 30 days (at most the "
        "latest 500 spends), in yuan; null with no spend.",
    ),
    # The payee.
    Feature("payee_count_1h", N, Source.PAYEE_SPENDS, "Spends to this counterparty in 1 hour."),
    Feature("payee_sum_1h", N, Source.PAYEE_SPENDS, "Yuan paid to this counterparty in 1 hour."),
    Feature("payee_count_24h", N, Source.PAYEE_SPENDS, "Spends to this counterparty in 24 hours."),
    Feature("payee_sum_24h", N, Source.PAYEE_SPENDS, "Yuan paid to this counterparty in 24 hours."),
    Feature(
        "payee_payers_24h",
        N,
        Source.PAYEE_SPENDS,
        "Distinct people who paid this counterparty in 24 hours (a mule's signal).",
    ),
    # Money in.
    Feature(
        "inflow_sum_30m",
        N,
        Source.INFLOW,
        "Yuan credited to the spender's wallet in the last 30 minutes (from the ledger: "
        "top-ups, transfers received, refunds; the latest 200 postings are read).",
    ),
    # Top-ups and counter deposits.
    Feature(
        "failed_card_topups_1h",
        N,
        Source.TOPUPS,
        "The user's card top-ups that failed in the last hour (card testing).",
    ),
    Feature(
        "counter_deposits_near_threshold_7d",
        N,
        Source.COUNTER,
        "The user's counter deposits in the last 7 days of at least 90 % of the large-cash "
        "threshold and below it (structuring).",
    ),
    # The watch list (docs/risk-watchlist.md).
    Feature(
        "payee_on_watchlist",
        B,
        Source.WATCHLIST,
        "True when a transfer's payee has a verified real name that matches the watch list "
        "(each match is recorded as a hit); false when it does not or the payee has not "
        "verified one; null on every other event.",
    ),
    Feature(
        "payer_on_watchlist",
        B,
        Source.WATCHLIST,
        "The same for the one who sends a transfer (a list loaded after they verified); "
        "null on every other event.",
    ),
)

CATALOGUE: Final[Mapping[str, Feature]] = MappingProxyType(
    {feature.name: feature for feature in FEATURES}
)
SCHEMA: Final[Mapping[str, ValueType]] = MappingProxyType(
    {feature.name: feature.type for feature in FEATURES}
)

# The movement kinds a rule may apply to: the seam's channels (spends), money in
# (risk.decisions.decide_inflow) and sign-in (risk.decisions.decide_sign_in).
EVENTS: Final = (
    "payment",
    "payment_code",
    "static_qr",
    "transfer",
    "bill",
    "withdrawal",
    "sign_in",
    "card_topup",
    "psp_topup",
    "counter_deposit",
)
