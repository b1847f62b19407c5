"""ORM tables, one module per aggregate. Importing this package registers them all."""

from ewallet.models.idempotency import IdempotencyRecord
from ewallet.models.ledger import LedgerAccount, LedgerHold, LedgerPosting, LedgerTransaction
from ewallet.models.outbox import OutboxEvent

__all__ = [
    "IdempotencyRecord",
    "LedgerAccount",
    "LedgerHold",
    "LedgerPosting",
    "LedgerTransaction",
    "OutboxEvent",
]
