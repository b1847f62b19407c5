"""The owner's Team page: the merchant's people; adding a manager or cashier (a one-time
password shown once), resetting a password, disabling someone. Owners only; a person of
another merchant is ``404``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.merchants.people import service as people
from ewallet.web.kit.pages import refusal, see_other
from ewallet.web.merchant.auth import TeamOwner
from ewallet.web.merchant.forms import MerchantForm
from ewallet.web.merchant.pages import merchant_page
from ewallet.web.merchant.routing import MerchantRoute

router = APIRouter(prefix="/merchant/team", route_class=MerchantRoute, include_in_schema=False)
UserId = Annotated[str, Path(max_length=32)]
TEAM = "/merchant/team"


@router.get("")
async def team_page(request: Request, services: ServicesDep, owner: TeamOwner) -> Response:
    members = await people.team(services, owner)
    return await merchant_page(request, services, "merchant/team/list.html", members=members)


@router.get("/new")
async def new_member_page(request: Request, services: ServicesDep, owner: TeamOwner) -> Response:
    return await merchant_page(
        request, services, "merchant/team/new.html", email="", name="", role="cashier"
    )


@router.post("/new")
async def add_member(
    request: Request, form: MerchantForm, services: ServicesDep, owner: TeamOwner
) -> Response:
    try:
        created = await people.add_team_member(
            services,
            owner,
            email=form.text("email"),
            name=form.text("name"),
            role=form.text("role"),
        )
    except DomainError as error:
        return await merchant_page(
            request,
            services,
            "merchant/team/new.html",
            status_code=error.status,
            email=form.text("email"),
            name=form.text("name"),
            role=form.text("role"),
            error=refusal(request, error),
        )
    return await merchant_page(
        request, services, "merchant/team/password.html", created=created, reset=False
    )


@router.post("/{user_id}/reset-password")
async def reset_password(
    request: Request, user_id: UserId, form: MerchantForm, services: ServicesDep, owner: TeamOwner
) -> Response:
    created = await people.reset_member_password(services, owner, user_id=user_id)
    return await merchant_page(
        request, services, "merchant/team/password.html", created=created, reset=True
    )


@router.post("/{user_id}/disable")
async def disable(
    user_id: UserId, form: MerchantForm, services: ServicesDep, owner: TeamOwner
) -> Response:
    await people.disable_member(services, owner, user_id=user_id)
    return see_other(TEAM)
