"""Every page module of the wallet, in one router (mounted at ``/`` by :mod:`ewallet.web.mount`)."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.web.wallet import shell, signin

router = APIRouter()
for module in (shell, signin):
    router.include_router(module.router)
