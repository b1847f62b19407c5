"""Who is calling the merchant API: ``Authorization: Bearer mk_...`` (API.md).

Every ``/v1/merchant`` route declares ``merchant: CurrentMerchant``. A missing, malformed,
unknown or rotated key, or a disabled merchant, is ``401 unauthorized``; a user's or a
staff member's token is not a merchant key and is refused the same way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import bearer_token
from ewallet.kit.errors import UnauthorizedError
from ewallet.merchants.service import authenticate, identify
from ewallet.merchants.views import MerchantPrincipal


async def current_merchant(request: Request, services: ServicesDep) -> MerchantPrincipal:
    token = bearer_token(request)
    if token is None:
        raise UnauthorizedError("a merchant API key is required: Authorization: Bearer mk_...")
    principal = await authenticate(services, api_key=token)
    request.state.merchant = principal
    return principal


CurrentMerchant = Annotated[MerchantPrincipal, Depends(current_merchant)]
MerchantAuthenticated = Depends(current_merchant)
"""Listed before ``Idempotent`` in a route's dependencies: keys are claimed per merchant."""


async def current_merchant_in_unit(request: Request, services: ServicesDep) -> MerchantPrincipal:
    """The merchant whose key this is, its standing left to the route's unit of work: for a
    hot path that checks it there (``require_key_in_force``), saving a transaction."""
    token = bearer_token(request)
    if token is None:
        raise UnauthorizedError("a merchant API key is required: Authorization: Bearer mk_...")
    principal = await identify(services, api_key=token)
    request.state.merchant = principal
    return principal


CurrentMerchantInUnit = Annotated[MerchantPrincipal, Depends(current_merchant_in_unit)]
MerchantIdentified = Depends(current_merchant_in_unit)
"""Listed before ``IdempotentInUnit``; the route's service must call
``require_key_in_force`` in its unit of work (or refuse)."""
