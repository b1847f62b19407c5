"""Online chat: ``/chat``, the bot and the hand-over to an agent over the chat's WebSocket.

The conversation runs on the existing customer socket (``WS /v1/support/chat``,
docs/chat.md): the page is the shell, ``static/wallet/chat.js`` the client. The socket
authenticates with an access token in its first frame; a browser signed in with the
wallet's cookie has none, so the script asks ``POST /chat/token`` (the form token in the
``X-CSRF-Token`` header, like every htmx request) for a one-minute token of this browser's
own session (:func:`ewallet.chat.service.customer.socket_token`) each time it connects. The
token never appears in a URL or in the page.

A live channel needs JavaScript: without it the page says so and offers a ticket and the
hotline instead. With chat switched off (``EWALLET_SUPPORT_CHAT_ENABLED``) it offers the
same.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ewallet.chat.service import customer as chat
from ewallet.help import service as help_service
from ewallet.http.deps import ServicesDep
from ewallet.web.kit.auth import WebUser
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import PAGE_HEADERS, locale_of, page
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

TEMPLATE: Final = "wallet/chat/chat.html"
SOCKET_PATH: Final = "/v1/support/chat"


@router.get("/chat")
async def chat_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    contact = await help_service.contact(services, locale=locale_of(request))
    return await page(request, services, TEMPLATE, contact=contact, socket_path=SOCKET_PATH)


@router.post("/chat/token")
async def chat_token(form: PostedForm, user: WebUser, services: ServicesDep) -> Response:
    """A one-minute token of this browser's session for the socket's ``auth`` frame."""
    token = chat.socket_token(services, user_id=user.user_id, session_id=user.session_id)
    return JSONResponse({"token": token}, headers=PAGE_HEADERS)
