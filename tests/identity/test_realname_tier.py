"""Real-name verification lands on class III when a card was bound before it (issue #3)."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import Table, insert, select

from ewallet.identity.realname.rules import check_character
from ewallet.models.funding import Card
from ewallet.models.identity import User
from tests.fixtures.identity import START, Wallet, bearer

cards = cast(Table, Card.__table__)
users = cast(Table, User.__table__)
ID_FIRST17 = "11010519900307123"
ID_NUMBER = ID_FIRST17 + check_character(ID_FIRST17)


async def add_card(wallet: Wallet, user_id: str, status: str) -> None:
    """A card row as binding leaves it (bound before the identity was verified)."""
    async with wallet.engine.begin() as conn:
        await conn.execute(
            insert(cards).values(
                id=f"card_{status}",
                user_id=user_id,
                status=status,
                bank_code="ICBC",
                bank_name="中国工商银行",
                card_type="debit",
                bin="622202",
                last_four="1234",
                fingerprint=f"fp-{status}",
                holder_name_masked="张*",
                bank_phone_masked="138****5678",
                binding_request_id=f"bind:card_{status}",
                agreement_token_encrypted=None,
                created_at=START,
                verified_at=START if status == "active" else None,
                unbound_at=None,
            )
        )


@pytest.mark.parametrize(
    ("card_statuses", "tier"),
    [
        ((), 2),
        (("active",), 3),
        (("pending_verification", "failed", "unbound"), 2),  # none of them is bound
    ],
)
async def test_tier_after_verification(
    wallet: Wallet, card_statuses: tuple[str, ...], tier: int
) -> None:
    registered = await wallet.register()
    user_id = registered["user"]["id"]
    for status in card_statuses:
        await add_card(wallet, user_id, status)

    response = await wallet.client.post(
        "/v1/me/identity",
        json={"real_name": "张三", "id_number": ID_NUMBER},
        headers=bearer(registered["tokens"]["access_token"]),
    )
    assert response.status_code == 200, response.text
    assert response.json()["tier"] == tier
    assert await wallet.scalar(select(users.c.tier).where(users.c.id == user_id)) == tier
