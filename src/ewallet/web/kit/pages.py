"""Answering with a page: the template rendered in the reader's language, with the headers
every page of ours carries.

``page(request, services, "wallet/cards/list.html", cards=...)`` renders with, besides the
given names: ``locale``, ``user`` (the signed-in principal or None), ``csrf`` (this
browser's form token), ``maintenance`` (the banner text while a window is in force, else
None), ``path`` (the page's own path, for the language switch), ``tab_bar`` (the tab bar
with the page's tab marked, drawn by ``base.html`` for a signed-in reader), ``error``
(None unless given) and ``form_key`` (a fresh key for a money form's ``form_key`` field:
:func:`ewallet.web.kit.forms.form_request_key`). A browser without a device cookie gets
one, so the forms it is shown carry a token bound to it.

The maintenance banner reads :func:`ewallet.ops.service.current_maintenance`, the
per-process cache of the schedule (re-read at most once a second, no query per page): a
window scheduled or cancelled shows on this process at once and on every other within
that second. Pieces of page that are the same for every reader of a language (the tab
bar, home's quick actions) are rendered once per language by :func:`constant_fragment`;
labels a page draws per row (a ticket's state badge) by :func:`macro_table`.

Headers: a strict Content-Security-Policy (no inline script or style, nothing from another
origin), ``Referrer-Policy: same-origin``, ``X-Content-Type-Options: nosniff``,
``X-Frame-Options: DENY`` and ``Cache-Control: no-store`` (pages carry personal data).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from ewallet.config import Environment
from ewallet.kit.errors import DomainError
from ewallet.kit.i18n import Locale
from ewallet.ops.service import current_maintenance
from ewallet.services import Services
from ewallet.web.kit import i18n
from ewallet.web.kit.auth import web_principal
from ewallet.web.kit.cookies import device_key_from, new_device_key, set_device
from ewallet.web.kit.csrf import scoped_token, token_for
from ewallet.web.kit.templates import TEMPLATES

CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
TAB_BAR: Final = "wallet/tabbar.html"
PAGE_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def locale_of(request: Request) -> Locale:
    return i18n.request_locale(request)


def refusal(request: Request, error: DomainError) -> str:
    """A service's refusal as the inline message a form shows, in the reader's language."""
    return i18n.error_message(error.code, error.detail, locale_of(request))


@cache
def constant_fragment(template: str, locale: Locale, **names: str) -> Markup:
    """``template`` rendered in ``locale`` with ``names``, once and kept: for a piece of
    page that depends on nothing else (no reader, no data, no request), so a page does
    not redo its translations and icons on every request. The set of calls is fixed by
    the code (a template, a language, a tab), so what is kept stays small."""
    with i18n.rendering_in(locale):
        return Markup(TEMPLATES.get_template(template).render(locale=locale, **names))  # noqa: S704 -- our own template, autoescaped


@cache
def macro_table(
    template: str, macro: str, values: tuple[str, ...], locale: Locale
) -> Mapping[str, Markup]:
    """``{value: macro(value)}`` for each of ``values``: the macro ``macro`` of ``template``
    called in ``locale`` once and kept, for labels a page shows on every row (a list of
    50 tickets draws 100 badges from a dozen distinct ones). The macro must depend on its
    argument and the language alone; the calls are fixed by the code, so what is kept
    stays small."""
    with i18n.rendering_in(locale):
        draw = getattr(TEMPLATES.get_template(template).module, macro)
        return MappingProxyType({value: Markup(draw(value)) for value in values})  # noqa: S704 -- our own template, autoescaped


def current_tab(path: str) -> str:
    """The tab bar's tab a page belongs to ("" for none)."""
    if path == "/":
        return "home"
    if path.startswith("/pay"):
        return "pay"
    if path.startswith("/history"):
        return "history"
    if path.startswith(("/me", "/security")):
        return "me"
    return ""


async def maintenance_banner(request: Request, services: Services) -> str | None:
    active = await current_maintenance(services)
    if active is None:
        return None
    if active.window.message:
        return active.window.message
    return i18n.error_message("maintenance", None, locale_of(request))


async def page(
    request: Request,
    services: Services,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    locale = locale_of(request)
    principal = await web_principal(request, services)
    device_key = device_key_from(request, services)
    new_device = None
    if device_key is None:
        device_key = new_device = new_device_key()
    csrf = token_for(
        services,
        session_id=principal.session_id if principal is not None else None,
        device_key=device_key,
    )
    names: dict[str, Any] = {
        "locale": locale,
        "user": principal,
        "csrf": csrf,
        "maintenance": await maintenance_banner(request, services),
        "path": request.url.path,
        "tab_bar": constant_fragment(TAB_BAR, locale, active=current_tab(request.url.path)),
        "error": None,
        "form_key": secrets.token_urlsafe(18),
    }
    names.update(context)
    with i18n.rendering_in(locale):
        html = TEMPLATES.get_template(template).render(names)
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    if new_device is not None:
        set_device(response, services, new_device)
    return response


async def front_end_page(
    request: Request,
    services: Services,
    template: str,
    *,
    csrf_scope: str,
    session_id: str | None,
    status_code: int = 200,
    names: dict[str, Any],
) -> HTMLResponse:
    """A page of a signed-in front end (the console, the merchant portal): ``template`` in
    the reader's language with ``locale``, ``csrf`` (the front end's own token, bound to
    ``session_id`` or else to the device cookie, which a browser without one gets here),
    ``maintenance``, ``path``, ``error`` (None), ``form_key`` and ``development``, then
    ``names``; the headers of every page of ours."""
    locale = locale_of(request)
    device_key = device_key_from(request, services)
    new_device = None
    if device_key is None:
        device_key = new_device = new_device_key()
    context: dict[str, Any] = {
        "locale": locale,
        "csrf": scoped_token(services, csrf_scope, session_id=session_id, device_key=device_key),
        "maintenance": await maintenance_banner(request, services),
        "path": request.url.path,
        "error": None,
        "form_key": secrets.token_urlsafe(18),
        "development": services.settings.env is Environment.DEVELOPMENT,
    }
    context.update(names)
    with i18n.rendering_in(locale):
        html = TEMPLATES.get_template(template).render(context)
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    if new_device is not None:
        set_device(response, services, new_device)
    return response


def see_other(url: str) -> Response:
    """After a successful post: go to ``url`` (303, so a reload does not post again). An
    htmx request gets ``HX-Redirect`` instead, which htmx follows as a full navigation."""
    return RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)


def htmx_or_see_other(request: Request, url: str) -> Response:
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={**PAGE_HEADERS, "HX-Redirect": url})
    return see_other(url)
