"""The wake-up a static-QR payment announces after it commits (``merchant.<id>``).

The app's wake-up bus is the chat's today (:mod:`ewallet.chat.deps`: in memory, or
PostgreSQL LISTEN/NOTIFY across processes); it carries topics, never content. It is
started by the chat sockets' lifespan: where it is not running (an app without them) there
is nothing to wake and the payment announces nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ewallet.chat.deps import app_chat_bus
from ewallet.payments.static_qr.service import Announce


async def merchant_wakeup(request: Request) -> Announce | None:
    try:
        bus = app_chat_bus(request.app)
    except AttributeError:  # the bus is not running in this app
        return None
    return bus.publish


MerchantWakeup = Annotated[Announce | None, Depends(merchant_wakeup)]
