"""Answering with a console page: the template in the reader's language, with the headers
every page of ours carries (``ewallet.web.kit.pages.PAGE_HEADERS``: strict CSP, no-store).

``console_page(request, services, "console/tickets/queue.html", tickets=...)`` renders with,
besides the given names and those of :func:`ewallet.web.kit.pages.front_end_page`
(``locale``, ``csrf``, ``maintenance``, ``path``, ``error``, ``form_key``,
``development``): ``staff`` (the signed-in :class:`StaffPrincipal` or None), ``nav`` (the
sections the role may open) and ``current`` (the link of this page), ``idle_seconds``
(when the screen locks) and ``role_label(role)``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from ewallet.config import Environment
from ewallet.services import Services
from ewallet.web.console.auth import console_staff
from ewallet.web.console.nav import current_link, nav_for, role_label
from ewallet.web.kit.pages import front_end_page


async def console_page(
    request: Request,
    services: Services,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    staff = await console_staff(request, services)
    development = services.settings.env is Environment.DEVELOPMENT
    names: dict[str, Any] = {
        "staff": staff,
        "nav": nav_for(staff.role, development=development) if staff is not None else [],
        "current": current_link(request.url.path),
        "idle_seconds": services.settings.staff_idle_minutes * 60,
        "role_label": role_label,
    }
    names.update(context)
    return await front_end_page(
        request,
        services,
        template,
        csrf_scope="console",
        session_id=staff.session_id if staff is not None else None,
        status_code=status_code,
        names=names,
    )
