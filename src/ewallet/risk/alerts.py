"""Risk alerts: raised in the transaction of the change that saw something, for staff.

An alert is a ``risk_alerts`` row (kind, subject, facts) written in the caller's unit of
work -- a refusal that rolls back raises nothing -- and, once that unit commits, a
``risk.alert`` warning in the log for whatever watches the logs. Kinds so far:
``payment_code_guessing`` (:mod:`ewallet.payments.payment_codes.guard`).
"""

from __future__ import annotations

from typing import Any

import structlog

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.risk import repository

log = structlog.get_logger("ewallet.risk")


async def raise_alert(
    uow: UnitOfWork,
    *,
    clock: Clock,
    kind: str,
    subject_type: str,
    subject_id: str,
    details: dict[str, Any],
) -> str:
    """Record an alert in ``uow``; its id. Logged once the unit commits."""
    alert_id = await repository.insert_alert(
        await uow.connection(),
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
        now=clock.now(),
    )
    uow.after_commit(
        lambda: log.warning(
            "risk.alert",
            alert_id=alert_id,
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            **details,
        )
    )
    return alert_id
