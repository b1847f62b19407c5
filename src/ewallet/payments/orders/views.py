"""What the order use cases take beyond plain values: the order list's filter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.models.payments import OrderStatus


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """What a merchant's order list keeps: each field None keeps everything.

    ``status`` is the status as shown (``expired`` is an unpaid order past its time, and
    ``awaiting_payment`` one still in time); ``created_from`` is inclusive, ``created_to``
    exclusive; the amounts (fen) are inclusive bounds."""

    status: OrderStatus | None = None
    out_trade_no: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    amount_min: int | None = None
    amount_max: int | None = None
