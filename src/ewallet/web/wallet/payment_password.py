"""Pages of the wallet: payment password (being written)."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
