"""A withdrawal held for risk review: what a risk officer's decision does to it.

Risk control may hold a withdrawal for review (docs/risk-review.md): the spend seam books
its amount hold as a review hold (the same accounts: wallet -> the card bank's settlement
account), the fee is held beside it as for any withdrawal, and the withdrawal waits
``under_review`` -- the bank is NOT asked. The review queue (:mod:`ewallet.reviews`)
finishes it through :func:`finish_reviewed_withdrawal`, in the unit that decides the review.

Approving never calls the bank inside that unit: it moves the withdrawal to ``processing``
(``approved_at``) and queues a :data:`SUBMIT_TOPIC` event, due at once. The outbox worker
then asks the bank with the request id ``withdrawal:<id>`` and finishes it exactly as a
fresh withdrawal (:func:`ewallet.funding.withdrawals.jobs.submit_approved_withdrawal`), so
the risk officer's answer never waits on a slow bank. If the worker is down, or dies
between, the event is delivered again (the bank never pays one request id twice), and the
settle job finishes a ``processing`` withdrawal left stale from the bank's records, its
grace counted from the approval.
"""

from __future__ import annotations

from typing import Final

from ewallet.funding.withdrawals import repository
from ewallet.funding.withdrawals.notices import tell_owner
from ewallet.identity.errors import AccountFrozenError
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import ConflictError
from ewallet.ledger import VoidHold, apply_command
from ewallet.models.funding import WithdrawalStatus
from ewallet.models.identity import UserStatus
from ewallet.risk.review.views import ReviewView
from ewallet.risk.spending import release_spend
from ewallet.worker.outbox import enqueue

SUBMIT_TOPIC: Final = "withdrawals.submit"


async def finish_reviewed_withdrawal(
    uow: UnitOfWork, clock: Clock, review: ReviewView, *, approved: bool
) -> None:
    """Finish a withdrawal held for ``review`` (module doc), in the deciding unit.

    Approved: the withdrawal becomes ``processing`` (``approved_at``), its holds kept, its
    :data:`SUBMIT_TOPIC` event queued and the owner told (``withdrawal_review_approved``);
    the bank is asked after this unit commits. Refused -- the decision rolled back, the
    review left open for a rejection -- when the owner's account was frozen meanwhile
    (``account_frozen``: money never leaves a frozen account) or the card was unbound
    (``conflict``, member ``reason``: ``card_not_active``).

    Rejected: both holds (the amount and the fee) are voided, the spend no longer counts
    toward the limits nor the withdrawal toward the free quota, the withdrawal ``rejected``
    and the owner told (``withdrawal_review_rejected``). A rejection always goes through.
    """
    conn = await uow.connection()
    held = await repository.load_withdrawal(conn, review.subject_id)
    if held is None or not held.under_review:
        raise ConflictError(
            "the reviewed withdrawal is not under review",
            state="missing" if held is None else held.status,
        )
    now = clock.now()
    if not approved:
        finished = await repository.finish_held(
            conn, held.id, status=WithdrawalStatus.REJECTED, now=now
        )
        assert finished  # the review's own row lock decided it: one decision only
        for hold_id in (held.hold_id, held.fee_hold_id):
            if hold_id is not None:
                await apply_command(uow, VoidHold(hold_id=hold_id), clock=clock)
        await release_spend(uow, reference=review.reference, now=now)
        await tell_owner(uow, clock, held, "withdrawal_review_rejected", sms=True)
        return
    owner = await repository.owner(uow, held.user_id)
    if owner.status != UserStatus.ACTIVE:
        raise AccountFrozenError("the owner's account is frozen: reject the review instead")
    card = await repository.active_card(conn, user_id=held.user_id, card_id=held.card_id)
    if card is None:
        raise ConflictError(
            "the withdrawal's card is no longer bound: reject the review instead",
            reason="card_not_active",
        )
    finished = await repository.finish_held(
        conn, held.id, status=WithdrawalStatus.PROCESSING, now=now
    )
    assert finished
    await enqueue(uow.session, topic=SUBMIT_TOPIC, payload={"withdrawal_id": held.id}, clock=clock)
    await tell_owner(uow, clock, held, "withdrawal_review_approved", sms=True)
