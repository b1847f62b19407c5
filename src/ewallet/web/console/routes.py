"""Every page module of the staff console, in one router (mounted by :mod:`ewallet.web.mount`).

The modules' routes are taken into this router as they are (each module's router already
gives them the ``/console`` prefix and :class:`ConsoleRoute`), not included router by
router: FastAPI 0.165 matches an included router as a branch of its own, asking each
branch in turn and working out every branch's routes version on each request, twice (to
match, then to handle). One flat list of routes matches ``/console/tickets`` in about
36 instead of 50-59 microseconds, twice per request (docs/performance.md).
"""

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
    # The modules' routers carry no dependencies, tags or callbacks of their own, so the
    # routes are the same with or without their router around them.
    router.routes.extend(module.router.routes)
