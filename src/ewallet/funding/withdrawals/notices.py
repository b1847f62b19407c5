"""What a withdrawal's owner is told about it: one in-app notice per step, in their locale."""

from __future__ import annotations

from ewallet.funding.withdrawals import repository
from ewallet.funding.withdrawals.views import WithdrawalView
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.notify.service import notify_user


async def tell_owner(
    uow: UnitOfWork,
    clock: Clock,
    withdrawal: WithdrawalView,
    kind: str,
    *,
    sms: bool = False,
    **extra: str,
) -> None:
    """Notice ``kind`` (its amount, fee and currency, plus ``extra``) to the owner, in the
    caller's unit; ``sms`` as well for a risk officer's decision, which comes later, when
    they may not be looking."""
    amounts = {"amount": withdrawal.amount, "fee": withdrawal.fee}
    params = {k: v.to_decimal_string() for k, v in amounts.items()}
    params["currency"] = withdrawal.amount.currency
    await notify_user(
        uow.session,
        clock=clock,
        user=await repository.owner(uow, withdrawal.user_id),
        kind=kind,
        params={**params, **extra},
        sms=sms,
        security=False,
    )
