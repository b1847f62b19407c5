"""A merchant's settlement payouts are an entity's transfers, dated the day they were paid
(the day after the business day they settle, T+1), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from ewallet.audit.service import Actor
from ewallet.models.aml import ExportFormat
from ewallet.risk.aml.service import collect_large_value, export_day
from tests.settlement.conftest import FIRST_DAY, ICBC, Settling, at, settling

__all__ = ["settling"]


async def test_a_paid_payout_is_reported_on_the_day_it_was_paid(settling: Settling) -> None:
    shop = await settling.shop_with_account("Corner Bakery")
    merchant_id = shop.merchant.id
    await settling.sale(merchant_id, 150_00, 50, at(FIRST_DAY, 9))
    report = await settling.run(FIRST_DAY)  # the clock is now 02:00 the next day
    assert len(report.paid) == 1
    lowered = dataclasses.replace(
        settling.services,
        settings=settling.settings.model_copy(
            update={"aml_entity_transfer_threshold_minor": 149_50}
        ),
    )
    paid_day = FIRST_DAY + timedelta(days=1)

    assert (await collect_large_value(lowered, FIRST_DAY)).groups == ()
    result = await collect_large_value(lowered, paid_day)
    (group,) = result.groups
    assert (group.category, group.subject_type, group.subject_id) == (
        "entity_transfer",
        "merchant",
        merchant_id,
    )
    (payout,) = group.movements
    assert payout.channel == "settlement_payout"
    assert payout.amount.minor == 150_00 - 50
    assert payout.counterparty_type == "bank_account"
    assert payout.counterparty_name is not None
    assert payout.counterparty_name.endswith(f"****{ICBC.number[-4:]}")
    assert ICBC.number not in payout.counterparty_name

    exported = await export_day(
        lowered, Actor("system", "test"), day=paid_day, export_format=ExportFormat.CSV
    )
    text = exported.content.decode("utf-8-sig")
    assert "Corner Bakery" in text  # the merchant's registered name
    assert exported.large_value_count == 1
    # Under the shipped ¥2,000,000 a bakery's payout is no large-value transaction.
    assert (await collect_large_value(settling.services, paid_day)).groups == ()
