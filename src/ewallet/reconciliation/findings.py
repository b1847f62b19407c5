"""What a reconciliation run can find, and the tally it keeps.

Matched items are only counted. Everything else becomes a :class:`Finding`: either an item
the run settled (``needs_action`` False: the wallet had not known the outcome and now does)
or a mismatch a person must look at (``needs_action`` True).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    # Settled by the run.
    CREDITED = "credited"  # a pending top-up the bank/PSP debited: the wallet is credited
    LATE_CREDITED = "late_credited"  # a top-up marked failed that was debited after all
    POSTED = "posted"  # a pending withdrawal the bank paid out: the holds are posted
    FAILED = "failed"  # a pending item the bank never saw, past the grace period
    # Mismatches.
    UNKNOWN_AT_WALLET = "unknown_at_wallet"  # a bank/PSP movement with no wallet operation
    AMOUNT_MISMATCH = "amount_mismatch"  # the same operation, different amounts or kinds
    MISSING_AT_PROVIDER = "missing_at_provider"  # the wallet moved money the bank/PSP did not
    RELEASED_BUT_PAID = "released_but_paid"  # a withdrawal refunded to the wallet, yet paid
    LEDGER_MISSING = "ledger_missing"  # a succeeded operation without its ledger entry
    UNRESOLVED = "unresolved"  # the bank or PSP could not be asked; try again


SETTLED = frozenset({Category.CREDITED, Category.LATE_CREDITED, Category.POSTED, Category.FAILED})


@dataclass(frozen=True, slots=True)
class Finding:
    source: str  # bank, alipay, wechat_pay
    reference: str
    category: Category
    wallet_amount: int | None
    external_amount: int | None
    currency: str
    detail: str

    @property
    def needs_action(self) -> bool:
        return self.category not in SETTLED


@dataclass(slots=True)
class Tally:
    """Findings and counts of one run; ``notes`` say what could not be compared."""

    matched: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def counts(self) -> dict[str, Any]:
        by_category = Counter(finding.category.value for finding in self.findings)
        mismatches = sum(1 for finding in self.findings if finding.needs_action)
        return {
            "matched": self.matched,
            "settled": len(self.findings) - mismatches,
            "mismatches": mismatches,
            "by_category": dict(sorted(by_category.items())),
        }
