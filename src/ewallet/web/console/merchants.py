"""Console pages: merchants -- find them, create one (its API key and webhook secret shown
once), change its settings, disable or enable it, see its API keys and replace them all
(the emergency rotation: every active key revoked, one new key shown once).

For operators (and admins), over the same use cases as ``/v1/staff/merchants``: the rules
(names, categories, webhook URLs) and the audit events are the merchants service's. A
credential is only ever in the answer to the post that made it -- never in a URL, a cookie
or a later page -- and every console page is ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.kit.i18n import Locale
from ewallet.merchants import service
from ewallet.models.merchants import MerchantStatus
from ewallet.services import Services
from ewallet.web.console.auth import Operator
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.forms import Form
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, refusal, see_other

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

LIST: Final = "console/merchants/list.html"
NEW: Final = "console/merchants/new.html"
CREATED: Final = "console/merchants/created.html"
MERCHANT: Final = "console/merchants/merchant.html"
PAGE_SIZE: Final = 25
STATUSES: Final = frozenset(MerchantStatus)
DONE: Final = frozenset({"saved", "disabled", "enabled"})


def _field_messages(locale: Locale) -> dict[str, str]:
    """What to say next to a field the service refused (``error.extra["field"]``)."""
    return {
        "name": _t("Give the merchant a name of 1 to 100 characters.", locale),
        "category": _t(
            "Use lowercase letters, digits or _ for the category (for example food).", locale
        ),
        "webhook_url": _t(
            "The webhook URL must start with https:// or http:// and name a host.", locale
        ),
    }


def _refused(request: Request, error: DomainError) -> tuple[str, dict[str, str]]:
    """The message above the form, and the one next to the field it concerns (if any)."""
    field = error.extra.get("field")
    messages = _field_messages(locale_of(request))
    if error.code == "validation_error" and field in messages:
        return _t("Check the highlighted field.", locale_of(request)), {field: messages[field]}
    return refusal(request, error), {}


def _settings(form: Form) -> dict[str, Any]:
    return {
        "name": form.text("name"),
        "category": form.text("category"),
        "webhook_url": form.text("webhook_url") or None,
        "accepts_wallet": form["accepts_wallet"] == "yes",
    }


@router.get("/merchants")
async def merchant_list(
    *,
    request: Request,
    staff: Operator,
    services: ServicesDep,
    q: str = "",
    status: str = "",
    cursor: str | None = None,
) -> Response:
    """Merchants newest first, searched by name or id and filtered by status."""
    wanted = MerchantStatus(status) if status in STATUSES else None
    listing = await service.list_merchants(
        services, search=q, status=wanted, limit=PAGE_SIZE, cursor=cursor or None
    )
    next_url = None
    if listing.next_cursor is not None:
        query = {"q": q, "status": wanted or "", "cursor": listing.next_cursor}
        next_url = "/console/merchants?" + urlencode({k: v for k, v in query.items() if v})
    return await console_page(
        request,
        services,
        LIST,
        merchants=listing.items,
        q=q,
        status=wanted or "",
        next_url=next_url,
        first_page=cursor is None,
    )


@router.get("/merchants/new")
async def new_merchant(request: Request, staff: Operator, services: ServicesDep) -> Response:
    return await console_page(request, services, NEW, values=_blank(), field_errors={})


def _blank() -> dict[str, Any]:
    return {"name": "", "category": "general", "webhook_url": None, "accepts_wallet": True}


@router.post("/merchants")
async def create_merchant(
    request: Request, staff: Operator, form: ConsoleForm, services: ServicesDep
) -> Response:
    """Create the merchant and show its credentials, this once."""
    values = _settings(form)
    try:
        created = await service.create_merchant(services, staff.actor(), **values)
    except DomainError as error:
        message, field_errors = _refused(request, error)
        return await console_page(
            request,
            services,
            NEW,
            status_code=error.status,
            values=values,
            error=message,
            field_errors=field_errors,
        )
    return await console_page(
        request,
        services,
        CREATED,
        merchant=created.merchant,
        api_key=created.api_key,
        webhook_secret=created.webhook_secret,
    )


@router.get("/merchants/{merchant_id}")
async def merchant_page(
    merchant_id: str,
    request: Request,
    staff: Operator,
    services: ServicesDep,
    done: str = "",
) -> Response:
    return await _merchant(request, services, merchant_id, done=done if done in DONE else None)


async def _merchant(
    request: Request,
    services: Services,
    merchant_id: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The merchant's page: its settings form, facts, status and API keys."""
    found = await service.merchant_keys(services, merchant_id=merchant_id)
    merchant = found.merchant
    context.setdefault(
        "values",
        {
            "name": merchant.name,
            "category": merchant.category,
            "webhook_url": merchant.webhook_url,
            "accepts_wallet": merchant.accepts_wallet,
        },
    )
    context.setdefault("field_errors", {})
    context.setdefault("new_key", None)
    context.setdefault("done", None)
    return await console_page(
        request,
        services,
        MERCHANT,
        status_code=status_code,
        merchant=merchant,
        keys=found.keys,
        **context,
    )


@router.post("/merchants/{merchant_id}")
async def save_settings(
    merchant_id: str,
    request: Request,
    staff: Operator,
    form: ConsoleForm,
    services: ServicesDep,
) -> Response:
    """Name, category, webhook URL and wallet acceptance, as the settings form shows them."""
    values = _settings(form)
    try:
        await service.update_merchant(
            services, staff.actor(), merchant_id=merchant_id, changes=values
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        message, field_errors = _refused(request, error)
        return await _merchant(
            request,
            services,
            merchant_id,
            status_code=error.status,
            values=values,
            error=message,
            field_errors=field_errors,
        )
    return see_other(f"/console/merchants/{merchant_id}?done=saved")


@router.post("/merchants/{merchant_id}/status")
async def change_status(
    merchant_id: str,
    staff: Operator,
    form: ConsoleForm,
    services: ServicesDep,
) -> Response:
    """Disable (its key is refused and its orders cannot be paid) or enable again."""
    status = MerchantStatus.DISABLED if form["status"] == "disabled" else MerchantStatus.ACTIVE
    await service.update_merchant(
        services, staff.actor(), merchant_id=merchant_id, changes={"status": status}
    )
    done = "disabled" if status is MerchantStatus.DISABLED else "enabled"
    return see_other(f"/console/merchants/{merchant_id}?done={done}")


@router.post("/merchants/{merchant_id}/rotate-key")
async def rotate_key(
    merchant_id: str,
    request: Request,
    staff: Operator,
    form: ConsoleForm,
    services: ServicesDep,
) -> Response:
    """Every active API key revoked and one new key issued, shown on the page this answer
    draws and never again; the old keys stop working at once."""
    _merchant_view, api_key = await service.rotate_api_key(
        services, staff.actor(), merchant_id=merchant_id
    )
    return await _merchant(request, services, merchant_id, new_key=api_key)
