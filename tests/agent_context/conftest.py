from __future__ import annotations

import pytest

from tests.fixtures.chat import world
from tests.fixtures.shop import Shop, clock, shop
from tests.staff_lookup.world import Desk

__all__ = ["clock", "desk", "shop", "world"]


@pytest.fixture
def desk(shop: Shop) -> Desk:
    return Desk(shop)
