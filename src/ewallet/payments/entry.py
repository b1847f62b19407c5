"""A merchant payment's ledger side: the accounts it moves money between and its entry.

Shared by paying (:mod:`ewallet.payments.service`, the entry posted at once) and by a payment
held for risk review (:mod:`ewallet.payments.held.service`: a hold wallet -> merchant of the
whole amount while it waits, the same entry posted when a risk officer approves it, so the
merchant is credited net of its fee exactly as for a payment that was never held).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ewallet.kit.money import Money
from ewallet.ledger import Leg, PostEntry, Side, TransactionKind


@dataclass(frozen=True, slots=True)
class PaymentAccounts:
    """The ids of the ledger accounts a payment moves money between: the payer's wallet,
    the merchant, and the fee revenue its fee goes to."""

    wallet: int
    merchant: int
    fee_revenue: int


def payment_entry(
    *, key: str, accounts: PaymentAccounts, amount: Money, fee: int, metadata: dict[str, Any]
) -> PostEntry:
    """The payment's one ledger entry: the wallet pays ``amount``, the merchant is credited
    ``amount - fee`` and fee revenue ``fee`` (a leg of 0 is left out: the ledger takes
    positive legs only)."""
    currency = amount.currency
    legs = [Leg(accounts.wallet, Side.DEBIT, amount)]
    if fee < amount.minor:
        legs.append(Leg(accounts.merchant, Side.CREDIT, Money(amount.minor - fee, currency)))
    if fee > 0:
        legs.append(Leg(accounts.fee_revenue, Side.CREDIT, Money(fee, currency)))
    return PostEntry(key=key, kind=TransactionKind.PAYMENT, legs=tuple(legs), metadata=metadata)
