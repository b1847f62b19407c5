"""The billers the wallet knows: who can be paid, and what their account numbers look like.

Facts shared by the bills feature (which writes them to the ``billers`` table at start)
and the sandbox biller (which serves exactly these). Each biller names a full-match
pattern for its account numbers, the hint shown when a number does not match, an optional
check digit, and -- for mobile top-ups -- the amounts the carrier accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from ewallet.integrations.biller.errors import BillAccountInvalidError, BillAmountNotAllowedError
from ewallet.kit.money import Money
from ewallet.kit.phone import InvalidPhoneError, parse_phone

Category = Literal["electricity", "water", "gas", "mobile_topup", "broadband"]
CATEGORIES: Final[tuple[Category, ...]] = (
    "electricity",
    "water",
    "gas",
    "mobile_topup",
    "broadband",
)
TOPUP_AMOUNTS_FEN: Final = (10_00, 20_00, 30_00, 50_00, 100_00, 200_00, 300_00, 500_00)
_SEPARATORS: Final = re.compile(r"[\s-]")


@dataclass(frozen=True, slots=True)
class BillerSpec:
    id: str
    category: Category
    name_zh: str
    name_en: str
    region: str
    account_pattern: str
    account_hint_zh: str
    account_hint_en: str
    check_digit: Literal["luhn"] | None = None
    fixed_amounts: tuple[int, ...] | None = None
    status: str = "active"
    sort_order: int = 0

    @classmethod
    def of(cls, row: Any) -> BillerSpec:
        amounts = row.fixed_amounts
        return cls(
            id=row.id,
            category=row.category,
            name_zh=row.name_zh,
            name_en=row.name_en,
            region=row.region,
            account_pattern=row.account_pattern,
            account_hint_zh=row.account_hint_zh,
            account_hint_en=row.account_hint_en,
            check_digit=row.check_digit,
            fixed_amounts=None if amounts is None else tuple(int(a) for a in amounts),
            status=row.status,
            sort_order=row.sort_order,
        )

    def normalize_account(self, raw: str) -> str:
        """The account number as the biller knows it, or ``bill_account_invalid``.

        Spaces and hyphens are dropped (people copy numbers from paper bills in groups);
        a mobile top-up takes a mainland number in any accepted form (``+86 138 ...``).
        """
        compact = _SEPARATORS.sub("", raw)
        if self.category == "mobile_topup":
            compact = _national_mobile(compact) or compact
        if not re.fullmatch(self.account_pattern, compact):
            raise self._invalid("the account number does not have this biller's format")
        if self.check_digit == "luhn" and not luhn_valid(compact):
            raise self._invalid("the account number's check digit is wrong")
        return compact

    def check_amount(self, amount: Money) -> None:
        """Top-ups take one of the carrier's amounts; bills any positive amount."""
        if self.fixed_amounts is not None and amount.minor not in self.fixed_amounts:
            allowed = [
                Money(minor, amount.currency).to_decimal_string() for minor in self.fixed_amounts
            ]
            raise BillAmountNotAllowedError(
                f"this biller accepts only these amounts: {', '.join(allowed)}",
                allowed_amounts=allowed,
            )

    def _invalid(self, detail: str) -> BillAccountInvalidError:
        return BillAccountInvalidError(
            detail, hint={"zh-CN": self.account_hint_zh, "en": self.account_hint_en}
        )


def _national_mobile(compact: str) -> str | None:
    try:
        e164 = parse_phone(compact)
    except InvalidPhoneError:
        return None
    return e164[3:] if e164.startswith("+86") else None


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check, as on bank cards; a few utilities use it on account numbers."""
    return luhn_check_digit(digits[:-1]) == digits[-1]


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body`` + digit pass :func:`luhn_valid`."""
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char)
        if position % 2 == 0:  # doubled: it will sit left of the check digit
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


_MOBILE: Final = r"1[3-9]\d{9}"
DEFAULT_BILLERS: Final[tuple[BillerSpec, ...]] = (
    BillerSpec(
        id="sgcc_bj",
        category="electricity",
        name_zh="国网北京市电力公司",
        name_en="State Grid Beijing Electric Power",
        region="北京 Beijing",
        account_pattern=r"\d{10}",
        account_hint_zh="10 位数字户号，见电费账单",
        account_hint_en="the 10-digit customer number on the bill",
        sort_order=10,
    ),
    BillerSpec(
        id="sgcc_sh",
        category="electricity",
        name_zh="国网上海市电力公司",
        name_en="State Grid Shanghai Electric Power",
        region="上海 Shanghai",
        account_pattern=r"\d{10}",
        account_hint_zh="10 位数字户号，见电费账单",
        account_hint_en="the 10-digit customer number on the bill",
        sort_order=20,
    ),
    BillerSpec(
        id="bj_water",
        category="water",
        name_zh="北京市自来水集团",
        name_en="Beijing Waterworks Group",
        region="北京 Beijing",
        account_pattern=r"\d{9}",
        account_hint_zh="9 位用户号（末位为校验位）",
        account_hint_en="the 9-digit account number (its last digit is a check digit)",
        check_digit="luhn",
        sort_order=10,
    ),
    BillerSpec(
        id="sh_water",
        category="water",
        name_zh="上海城投水务",
        name_en="Shanghai Chengtou Water",
        region="上海 Shanghai",
        account_pattern=r"\d{8}",
        account_hint_zh="8 位数字用户号",
        account_hint_en="the 8-digit account number",
        sort_order=20,
    ),
    BillerSpec(
        id="bj_gas",
        category="gas",
        name_zh="北京燃气集团",
        name_en="Beijing Gas Group",
        region="北京 Beijing",
        account_pattern=r"\d{12}",
        account_hint_zh="12 位燃气户号（末位为校验位）",
        account_hint_en="the 12-digit gas account number (its last digit is a check digit)",
        check_digit="luhn",
        sort_order=10,
    ),
    BillerSpec(
        id="cmcc_topup",
        category="mobile_topup",
        name_zh="中国移动话费充值",
        name_en="China Mobile top-up",
        region="全国 Nationwide",
        account_pattern=_MOBILE,
        account_hint_zh="11 位中国大陆手机号码",
        account_hint_en="an 11-digit mainland mobile number",
        fixed_amounts=TOPUP_AMOUNTS_FEN,
        sort_order=10,
    ),
    BillerSpec(
        id="cucc_topup",
        category="mobile_topup",
        name_zh="中国联通话费充值",
        name_en="China Unicom top-up",
        region="全国 Nationwide",
        account_pattern=_MOBILE,
        account_hint_zh="11 位中国大陆手机号码",
        account_hint_en="an 11-digit mainland mobile number",
        fixed_amounts=TOPUP_AMOUNTS_FEN,
        sort_order=20,
    ),
    BillerSpec(
        id="ctcc_broadband",
        category="broadband",
        name_zh="中国电信宽带",
        name_en="China Telecom Broadband",
        region="全国 Nationwide",
        account_pattern=r"\d{8,12}",
        account_hint_zh="8 至 12 位宽带账号",
        account_hint_en="the broadband account number, 8 to 12 digits",
        sort_order=10,
    ),
)


def default_biller(biller_id: str) -> BillerSpec | None:
    """The default directory's biller (the sandbox serves exactly these)."""
    return next((spec for spec in DEFAULT_BILLERS if spec.id == biller_id), None)
