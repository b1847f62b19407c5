"""The webhook signing secret is kept per process for a few seconds, not read per delivery:
a change of the secret in the database is used once the TTL has passed, and not before."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from ewallet.merchants.service import (
    WEBHOOK_SIGNING_TTL,
    webhook_secret_context,
    webhook_signing,
)
from ewallet.models.tables import merchants
from tests.fixtures.shop import Shop


async def test_a_new_secret_is_used_once_the_ttl_has_passed(shop: Shop) -> None:
    made = await shop.merchant(webhook_url="https://shop.example/hooks")
    merchant_id = made.merchant.id
    first = await webhook_signing(shop.services, merchant_id=merchant_id)
    assert (first.secret, first.webhook_url) == (made.webhook_secret, "https://shop.example/hooks")

    # A rotation written straight to the row (no code path rotates it today).
    encrypted = shop.services.security.cipher.encrypt(
        "whsec_rotated", context=webhook_secret_context(merchant_id)
    )
    async with shop.engine.begin() as connection:
        await connection.execute(
            update(merchants)
            .where(merchants.c.id == merchant_id)
            .values(webhook_secret_encrypted=encrypted)
        )

    shop.clock.advance(WEBHOOK_SIGNING_TTL - timedelta(milliseconds=1))
    kept = await webhook_signing(shop.services, merchant_id=merchant_id)
    assert kept.secret == made.webhook_secret  # within the TTL: no read, the old secret

    shop.clock.advance(timedelta(milliseconds=1))
    fresh = await webhook_signing(shop.services, merchant_id=merchant_id)
    assert fresh.secret == "whsec_rotated"


async def test_each_merchant_has_its_own_entry(shop: Shop) -> None:
    one = await shop.merchant("One")
    two = await shop.merchant("Two")
    for made in (one, two, one, two):
        signing = await webhook_signing(shop.services, merchant_id=made.merchant.id)
        assert signing.secret == made.webhook_secret


async def test_a_clock_set_back_does_not_keep_an_old_entry(shop: Shop) -> None:
    made = await shop.merchant()
    await webhook_signing(shop.services, merchant_id=made.merchant.id)
    encrypted = shop.services.security.cipher.encrypt(
        "whsec_rotated", context=webhook_secret_context(made.merchant.id)
    )
    async with shop.engine.begin() as connection:
        await connection.execute(
            update(merchants)
            .where(merchants.c.id == made.merchant.id)
            .values(webhook_secret_encrypted=encrypted)
        )
    # A read stamped "in the future" (the clock stepped back) is not trusted.
    shop.clock.advance(-timedelta(seconds=1))
    again = await webhook_signing(shop.services, merchant_id=made.merchant.id)
    assert again.secret == "whsec_rotated"
