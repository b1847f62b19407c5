"""The double-entry ledger: the single source of truth for money.

See :mod:`ewallet.ledger.service` for the API, :mod:`ewallet.ledger.domain` for the rules
and :mod:`ewallet.ledger.verify` for the invariants ``ewallet ledger verify`` checks.
"""

from ewallet.ledger.domain import (
    Account,
    CreateHold,
    Hold,
    HoldStatus,
    Leg,
    PostEntry,
    PostHold,
    Posting,
    Reverse,
    Side,
    Transaction,
    TransactionKind,
    VoidHold,
    transfer,
)
from ewallet.ledger.service import HistoryItem, Ledger, apply_command, apply_commands

__all__ = [
    "Account",
    "CreateHold",
    "HistoryItem",
    "Hold",
    "HoldStatus",
    "Ledger",
    "Leg",
    "PostEntry",
    "PostHold",
    "Posting",
    "Reverse",
    "Side",
    "Transaction",
    "TransactionKind",
    "VoidHold",
    "apply_command",
    "apply_commands",
    "transfer",
]
