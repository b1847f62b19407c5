"""What other code reads of a card transfer: the payee (masked), the money, the state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.kit.money import Money
from ewallet.models.card_transfers import CardTransferStatus


def mask_name(name: str) -> str:
    """``张*``, ``张*伟``: the first character and, for three or more, the last."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True, slots=True)
class CardTransferView:
    id: str
    user_id: str
    payee_name: str  # as typed; shown masked (:attr:`payee_masked`)
    card_last_four: str
    bank_code: str
    bank_name: str
    amount: Money
    fee: Money
    status: str  # CardTransferStatus
    arrival: str  # transfers' Arrival
    arrives_at: datetime | None
    hold_id: str | None
    fee_hold_id: str | None
    failure_reason: str | None
    created_at: datetime
    sent_at: datetime | None
    # The full number, encrypted; None once the transfer is final (erased then: nothing
    # asks the bank about a finished transfer with it).
    card_number_encrypted: str | None

    @property
    def payee_masked(self) -> str:
        return mask_name(self.payee_name)

    @property
    def scheduled(self) -> bool:
        return self.status == CardTransferStatus.SCHEDULED

    @property
    def is_open(self) -> bool:
        """Not finished: the money is still held (the answer is ``202``)."""
        return self.status in (CardTransferStatus.PROCESSING, CardTransferStatus.PENDING)
