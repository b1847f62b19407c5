"""Answering with a portal page: :func:`ewallet.web.kit.pages.front_end_page` with the
portal's names: ``member`` (the signed-in :class:`PortalUser` or None), ``nav`` and
``current``, ``idle_seconds`` and ``role_label(role)``; its CSRF token is scoped
``merchant``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from ewallet.services import Services
from ewallet.web.kit.pages import front_end_page
from ewallet.web.merchant.auth import portal_user
from ewallet.web.merchant.forms import SCOPE
from ewallet.web.merchant.nav import current_link, nav_for, role_label


async def merchant_page(
    request: Request,
    services: Services,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    member = await portal_user(request, services)
    ready = member is not None and not (member.must_enrol_totp or member.must_change_password)
    names: dict[str, Any] = {
        "member": member,
        "nav": nav_for(member.role) if member is not None and ready else [],
        "current": current_link(request.url.path),
        "idle_seconds": services.settings.merchant_idle_minutes * 60,
        "role_label": role_label,
    }
    names.update(context)
    return await front_end_page(
        request,
        services,
        template,
        csrf_scope=SCOPE,
        session_id=member.session_id if member is not None else None,
        status_code=status_code,
        names=names,
    )
