"""Approve and reject racing on one review, on PostgreSQL through two engines (two
processes' worth of connections): exactly one wins each time, the other is told
``conflict`` and changes nothing; the money ends either with the payee or back with the
payer, never both, never neither."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from ewallet.bootstrap.root import running_services
from ewallet.models.operations import StaffRole
from ewallet.models.tables import risk_reviews
from ewallet.reviews.errors import ReviewDecidedError
from ewallet.reviews.service import approve_review, reject_review
from ewallet.staff.principal import StaffPrincipal
from tests.fixtures.accounts import Harness
from tests.fixtures.staff import make_staff
from tests.fixtures.transfers import balance

from .helpers import audited, held_transfer, pair, review_large_transfers, wallet

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

ROUNDS = 5


async def test_approve_and_reject_race_and_exactly_one_wins(harness: Harness) -> None:
    alice, bob = await pair(harness, funds="1000.00")
    await review_large_transfers(harness)
    login = await make_staff(harness.engine, harness.security, harness.clock, "risk_officer")
    staff = StaffPrincipal(
        staff_id=login.id,
        session_id="ssn_race",
        role=StaffRole.RISK_OFFICER,
        must_change_password=False,
        session_expires_at=harness.clock.now(),
    )
    approved = 0
    async with running_services(harness.settings, harness.clock) as other:
        for round_no in range(ROUNDS):
            held = await held_transfer(harness, alice, f"{100 + round_no}.00")
            review_id = await _review_of(harness, held["id"])
            results = await asyncio.gather(
                approve_review(harness.services, staff, review_id=review_id, note="ok"),
                reject_review(other, staff, review_id=review_id, note="no"),
                return_exceptions=True,
            )
            won = [r for r in results if not isinstance(r, BaseException)]
            lost = [r for r in results if isinstance(r, BaseException)]
            assert len(won) == 1, results
            assert len(lost) == 1, results
            assert isinstance(lost[0], ReviewDecidedError), lost
            approved += won[0].state.value == "approved"
    # Every round ended once: the approved amounts reached Bob, the rest is back with Alice.
    assert await balance(harness, bob) + (await wallet(harness, alice))[0] == 1000_00
    assert (await wallet(harness, alice))[1] == 0  # no hold left open
    assert len(await audited(harness, "risk.review_approved")) == approved
    assert len(await audited(harness, "risk.review_rejected")) == ROUNDS - approved


async def _review_of(harness: Harness, transfer_id: str) -> str:
    async with harness.engine.connect() as conn:
        statement = select(risk_reviews.c.id).where(risk_reviews.c.subject_id == transfer_id)
        found: str = (await conn.execute(statement)).scalar_one()
    return found
