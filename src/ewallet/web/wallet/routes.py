"""Every page module of the wallet, in one router (mounted at ``/`` by :mod:`ewallet.web.mount`)."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.web.wallet import (
    bills,
    cards,
    chat,
    contact,
    devices,
    help_centre,
    history,
    home,
    me,
    notifications,
    orders,
    password_free,
    pay,
    payment_code,
    payment_password,
    recovery,
    register,
    security,
    shell,
    signin,
    static_qr,
    tickets,
    topups,
    totp,
    transfers,
    withdrawals,
)

router = APIRouter()
for module in (
    shell,
    signin,
    home,
    register,
    recovery,
    payment_password,
    history,
    notifications,
    cards,
    topups,
    withdrawals,
    pay,
    payment_code,
    password_free,
    orders,
    static_qr,
    transfers,
    bills,
    me,
    security,
    devices,
    totp,
    help_centre,
    contact,
    tickets,
    chat,
):
    router.include_router(module.router)
