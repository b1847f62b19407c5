"""What the sandbox biller knows about an account: chosen by its digits, never stored.

The last three digits of the account number (before its check digit, for billers that
have one) choose the behaviour, so every biller of the default directory has the same
test accounts (docs/bills.md lists them, ``GET /test-accounts`` computes them):

    ...000  nothing due              ...404  no such account
    ...403  payment refused for good ...408  every call times out
    ...409  the first answer to a payment is lost (it was recorded)
    other   a bill is due (an amount derived from the number)

Mobile top-up numbers never owe anything: a top-up is a payment in advance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Final

from ewallet.integrations.biller.directory import DEFAULT_BILLERS, BillerSpec, luhn_check_digit

CHINA: Final = timezone(timedelta(hours=8), "CST")
HOLDERS: Final = ("张伟", "王芳", "李娜", "刘洋", "陈静", "欧阳娜娜", "杨帆", "赵磊")


class Behaviour(StrEnum):
    DUE = "due"
    NOTHING_DUE = "nothing_due"
    UNKNOWN = "unknown"
    TIMEOUT = "timeout"
    REJECT_PAYMENT = "reject_payment"
    LOSE_FIRST_ANSWER = "lose_first_answer"


SUFFIXES: Final = {
    "000": Behaviour.NOTHING_DUE,
    "404": Behaviour.UNKNOWN,
    "408": Behaviour.TIMEOUT,
    "403": Behaviour.REJECT_PAYMENT,
    "409": Behaviour.LOSE_FIRST_ANSWER,
}
DEMO_SUFFIX: Final = "001"  # the documented "bill due" account


def sandbox_biller(biller_id: str) -> BillerSpec | None:
    return next((spec for spec in DEFAULT_BILLERS if spec.id == biller_id), None)


def behaviour_of(spec: BillerSpec, account_no: str) -> Behaviour:
    core = account_no[:-1] if spec.check_digit else account_no
    return SUFFIXES.get(core[-3:], Behaviour.DUE)


@dataclass(frozen=True, slots=True)
class Bill:
    holder_name: str
    amount_due_fen: int
    period: str
    due_date: date


def _digest(spec: BillerSpec, account_no: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{spec.id}:{account_no}".encode()).digest()[:8], "big")


def current_bill(spec: BillerSpec, account_no: str, now: datetime) -> Bill:
    """Last month's bill, due on the 25th of this month (China time), before payments."""
    today = now.astimezone(CHINA).date()
    last_month = today.replace(day=1) - timedelta(days=1)
    digest = _digest(spec, account_no)
    owed = behaviour_of(spec, account_no) is not Behaviour.NOTHING_DUE
    # 50.00 to 499.90 in whole jiao; a top-up is paid in advance, so nothing is owed.
    due = 50_00 + (digest % 45_000) // 10 * 10
    amount = due if owed and spec.category != "mobile_topup" else 0
    return Bill(
        holder_name=HOLDERS[digest % len(HOLDERS)],
        amount_due_fen=amount,
        period=f"{last_month:%Y-%m}",
        due_date=today.replace(day=25),
    )


def documented_accounts(spec: BillerSpec) -> dict[str, str]:
    """One account number per behaviour for ``spec`` (check digits computed)."""
    width = 11 if spec.category == "mobile_topup" else _width(spec)
    suffixes = {DEMO_SUFFIX: Behaviour.DUE, **SUFFIXES}
    accounts = {}
    for suffix, behaviour in suffixes.items():
        if spec.category == "mobile_topup":
            number = "1380000" + "0" + suffix
        else:
            body_width = width - (1 if spec.check_digit else 0)
            body = "1" + suffix.rjust(body_width - 1, "0")
            number = body + luhn_check_digit(body) if spec.check_digit else body
        accounts[str(behaviour)] = number
    return accounts


def _width(spec: BillerSpec) -> int:
    # The patterns are \d{N} or \d{N,M}: the shortest allowed width.
    inner = spec.account_pattern.split("{", 1)[1].rstrip("}")
    return int(inner.split(",", 1)[0])
