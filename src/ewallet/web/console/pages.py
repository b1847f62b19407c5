"""Answering with a console page: the template in the reader's language, with the headers
every page of ours carries (``ewallet.web.kit.pages.PAGE_HEADERS``: strict CSP, no-store).

``console_page(request, services, "console/tickets/queue.html", tickets=...)`` renders with,
besides the given names: ``locale``, ``staff`` (the signed-in :class:`StaffPrincipal` or
None), ``csrf`` (this browser's form token), ``nav`` (the sections the role may open) and
``current`` (the link of this page), ``maintenance`` (the banner while a window is in force),
``path``, ``error`` (None unless given), ``form_key`` (a fresh key for an idempotent form),
``idle_seconds`` (when the screen locks), ``development`` and ``role_label(role)``. A
browser without a device cookie gets one, so the sign-in form's token is bound to it.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from ewallet.config import Environment
from ewallet.services import Services
from ewallet.web.console.auth import console_staff
from ewallet.web.console.forms import console_token
from ewallet.web.console.nav import current_link, nav_for, role_label
from ewallet.web.kit import i18n
from ewallet.web.kit.cookies import device_key_from, new_device_key, set_device
from ewallet.web.kit.pages import PAGE_HEADERS, locale_of, maintenance_banner
from ewallet.web.kit.templates import TEMPLATES


async def console_page(
    request: Request,
    services: Services,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    locale = locale_of(request)
    staff = await console_staff(request, services)
    device_key = device_key_from(request, services)
    new_device = None
    if device_key is None:
        device_key = new_device = new_device_key()
    development = services.settings.env is Environment.DEVELOPMENT
    names: dict[str, Any] = {
        "locale": locale,
        "staff": staff,
        "csrf": console_token(
            services,
            session_id=staff.session_id if staff is not None else None,
            device_key=device_key,
        ),
        "nav": nav_for(staff.role, development=development) if staff is not None else [],
        "current": current_link(request.url.path),
        "maintenance": await maintenance_banner(request, services),
        "path": request.url.path,
        "error": None,
        "form_key": secrets.token_urlsafe(18),
        "idle_seconds": services.settings.staff_idle_minutes * 60,
        "development": development,
        "role_label": role_label,
    }
    names.update(context)
    with i18n.rendering_in(locale):
        html = TEMPLATES.get_template(template).render(names)
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    if new_device is not None:
        set_device(response, services, new_device)
    return response
