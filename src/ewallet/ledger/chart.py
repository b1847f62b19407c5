"""The chart of accounts: one naming scheme for every ledger account the wallet opens.

Wallets, merchants and biller payables are liabilities (credit-normal, never negative);
bank settlement, PSP clearing and cash vaults are assets (debit-normal, may go negative
while money is in flight); suspense holds unknown outcomes until they are settled.

Accounts that every payment, top-up or fee of the whole wallet touches are *hot*: entries
credit them without their row lock (:mod:`ewallet.models.ledger`), so a busy merchant does
not serialize its customers' payments. Wallets, cash vaults (a teller's pace) and suspense
(rare, watched by reconciliation) stay ordinary.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.ledger import Account, Ledger, Side


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: str
    kind: str
    normal_side: Side
    may_go_negative: bool
    currency: str
    hot: bool = False


def wallet(user_id: str, currency: str = "CNY") -> AccountSpec:
    return AccountSpec(f"wallet:{user_id}:{currency}", "wallet", Side.CREDIT, False, currency)


def merchant(merchant_id: str, currency: str = "CNY") -> AccountSpec:
    return AccountSpec(
        f"merchant:{merchant_id}:{currency}", "merchant", Side.CREDIT, False, currency, hot=True
    )


def biller_payable(biller_id: str, currency: str = "CNY") -> AccountSpec:
    """What the wallet owes a biller for bills its users paid (liability, never negative)."""
    return AccountSpec(
        f"biller_payable:{biller_id}:{currency}",
        "biller_payable",
        Side.CREDIT,
        False,
        currency,
        hot=True,
    )


def bank_settlement(bank_code: str, currency: str = "CNY") -> AccountSpec:
    return AccountSpec(
        f"bank_settlement:{bank_code}:{currency}",
        "bank_settlement",
        Side.DEBIT,
        True,
        currency,
        hot=True,
    )


def psp_clearing(provider: str, currency: str = "CNY") -> AccountSpec:
    return AccountSpec(
        f"psp_clearing:{provider}:{currency}", "psp_clearing", Side.DEBIT, True, currency, hot=True
    )


def cash_vault(branch: str, currency: str = "CNY") -> AccountSpec:
    return AccountSpec(f"cash_vault:{branch}:{currency}", "cash_vault", Side.DEBIT, True, currency)


def fee_revenue(currency: str = "CNY") -> AccountSpec:
    return AccountSpec(
        f"fee_revenue:{currency}", "fee_revenue", Side.CREDIT, True, currency, hot=True
    )


def suspense(currency: str = "CNY") -> AccountSpec:
    return AccountSpec(f"suspense:{currency}", "suspense", Side.DEBIT, True, currency)


async def open_account(ledger: Ledger, spec: AccountSpec) -> Account:
    """Open (or find) the account ``spec`` names; idempotent by code."""
    return await ledger.open_account(
        code=spec.code,
        kind=spec.kind,
        normal_side=spec.normal_side,
        currency=spec.currency,
        may_go_negative=spec.may_go_negative,
        hot=spec.hot,
    )


async def account_id(ledger: Ledger, spec: AccountSpec) -> int:
    """The id of the account ``spec`` names, opened if need be; cached by the ledger."""
    return await ledger.account_id(
        code=spec.code,
        kind=spec.kind,
        normal_side=spec.normal_side,
        currency=spec.currency,
        may_go_negative=spec.may_go_negative,
        hot=spec.hot,
    )


async def known_account_id(ledger: Ledger, conn: AsyncConnection, spec: AccountSpec) -> int | None:
    """The id of the account ``spec`` names if it is open, read in the caller's transaction
    on a cache miss (:meth:`Ledger.known_account_id`); None if it is not open yet."""
    return await ledger.known_account_id(conn, spec.code)
