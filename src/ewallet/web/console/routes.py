"""Every page module of the staff console, in one router (mounted by :mod:`ewallet.web.mount`)."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.web.console import (
    audit,
    callbacks,
    chats,
    counter,
    customers,
    dev_outbox,
    help_articles,
    maintenance,
    merchants,
    outbox,
    pending,
    reconciliation,
    risk_decisions,
    risk_reviews,
    risk_rules,
    shell,
    staff_admin,
    tickets,
)

router = APIRouter()
for module in (
    shell,
    tickets,
    chats,
    callbacks,
    customers,
    counter,
    reconciliation,
    pending,
    outbox,
    maintenance,
    merchants,
    help_articles,
    dev_outbox,
    audit,
    risk_rules,
    risk_decisions,
    risk_reviews,
    staff_admin,
):
    router.include_router(module.router)
