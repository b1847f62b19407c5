"""Who and what the demo data is made of: fictional people, their cards, the merchants.

The people hold the sandbox bank's approving test cards, so their real names and ID
numbers are the cards' (the bank checks the holder when a card is bound). Phone numbers,
passwords and PINs are published on purpose: this is development data, and the seed
command refuses to run with ``EWALLET_ENV=production``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ewallet.sandbox.bank.cards import TEST_CARDS, SandboxCard

LOGIN_PASSWORD: Final = "Demo-wallet-2026"  # noqa: S105 -- published demo credentials
PIN: Final = "274913"


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """A demo user: tier 3 with a card, tier 2 with a verified name only, or tier 1."""

    key: str
    phone: str  # E.164
    real_name: str | None
    id_number: str | None
    card: SandboxCard | None
    locale: str = "zh-CN"

    @property
    def tier(self) -> int:
        if self.real_name is None:
            return 1
        return 3 if self.card is not None else 2


def _holder(card: SandboxCard, key: str, phone: str, locale: str = "zh-CN") -> DemoPerson:
    return DemoPerson(key, phone, card.holder_name, card.id_number, card, locale)


PEOPLE: Final[tuple[DemoPerson, ...]] = (
    _holder(TEST_CARDS[0], "zhang_wei", "+8613900139001"),
    _holder(TEST_CARDS[1], "wang_fang", "+8613900139002"),
    _holder(TEST_CARDS[2], "li_na", "+8613900139003", "en"),
    # Verified name, no card: funds the wallet through Alipay and WeChat Pay.
    DemoPerson(
        "liu_yang", "+8613900139004", TEST_CARDS[3].holder_name, TEST_CARDS[3].id_number, None
    ),
    # Phone only (class I): receives transfers, pays small amounts.
    DemoPerson("new_user", "+8613900139005", None, None, None),
)


@dataclass(frozen=True, slots=True)
class DemoMerchant:
    key: str
    name: str
    category: str
    accepts_wallet: bool = True


MERCHANTS: Final[tuple[DemoMerchant, ...]] = (
    DemoMerchant("coffee", "街角咖啡 Corner Coffee", "food"),
    DemoMerchant("supermarket", "鲜丰超市 FreshMart", "retail"),
    DemoMerchant("bookstore", "墨香书店 Inkwell Books", "books"),
    DemoMerchant("garage", "老王修车行 Wang's Garage", "services", accepts_wallet=False),
)
