"""What other code reads of a transfer: its parties (masked) and the transfer itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.kit.i18n import Text
from ewallet.kit.money import Money
from ewallet.kit.phone import mask_phone
from ewallet.models.identity import User
from ewallet.models.transfers import Arrival, TransferStatus


@dataclass(frozen=True, slots=True)
class Party:
    """Someone on the other side, as the other side may see them: masked."""

    user_id: str
    phone_masked: str
    name_masked: str | None

    @classmethod
    def of(cls, user: User) -> Party:
        return cls(user.id, mask_phone(user.phone), user.real_name_masked)

    def describe(self) -> str:
        """``张* (138****0002)``, or the masked phone alone when the name is not known."""
        if self.name_masked:
            return f"{self.name_masked} ({self.phone_masked})"
        return self.phone_masked


# The scam warning a first transfer to someone shows before it is confirmed (the preview's
# ``warning``; the web wallet's confirm page has its own copy in its catalogue).
NEW_PAYEE_WARNING = Text(
    "这是您第一次向该用户转账。骗子常冒充客服、公检法、领导或熟人，以退款、刷单返利、"
    "“安全账户”等理由要求转账。请先通过电话或当面核实对方身份；转账后资金难以追回。",
    "This is your first transfer to this person. Scammers pose as customer service, the "
    "police, a boss or a friend and ask for money for a refund, a task rebate or a 'safe "
    "account'. Check who they are by phone or in person first: money sent is hard to get back.",
)


@dataclass(frozen=True, slots=True)
class Payee:
    party: Party
    new_payee: bool  # the sender never transferred to this wallet before


@dataclass(frozen=True, slots=True)
class TransferSettingsView:
    """A user's transfer preferences (``GET /v1/me/transfer-settings``)."""

    default_arrival: str  # Arrival


@dataclass(frozen=True, slots=True)
class TransferView:
    id: str
    payer: Party
    payee: Party
    amount: Money
    memo: str | None
    status: str  # TransferStatus
    ledger_transaction_id: str | None  # None until it posts (held for review, rejected)
    created_at: datetime
    # Held for review (docs/risk-review.md): when a risk officer's decision is due.
    review_due_at: datetime | None = None
    review_id: str | None = None
    # Arrival options (docs/transfers.md): a delayed one waits ``scheduled`` on ``hold_id``
    # until ``arrives_at``; ``finished_at`` is when it posted, was cancelled or returned.
    arrival: str = Arrival.REALTIME  # Arrival
    arrives_at: datetime | None = None
    hold_id: str | None = None
    finished_at: datetime | None = None

    @property
    def under_review(self) -> bool:
        return self.status == TransferStatus.UNDER_REVIEW

    @property
    def scheduled(self) -> bool:
        """Waiting for its arrival time: the payer may still cancel it."""
        return self.status == TransferStatus.SCHEDULED

    def direction_for(self, user_id: str) -> str:
        return "out" if user_id == self.payer.user_id else "in"

    def counterparty_for(self, user_id: str) -> Party:
        return self.payee if user_id == self.payer.user_id else self.payer
