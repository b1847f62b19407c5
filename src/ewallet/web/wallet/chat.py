"""Pages of the wallet: chat (being written)."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
