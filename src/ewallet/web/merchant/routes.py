"""Every page module of the merchant portal, in one router (mounted by :mod:`ewallet.web.mount`)."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.web.merchant import (
    developers,
    orders,
    refunds,
    settlements,
    shell,
    static_qr,
    team,
    till,
)

router = APIRouter()
for module in (shell, team, orders, refunds, developers, settlements, till, static_qr):
    router.include_router(module.router)
