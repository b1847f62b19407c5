"""Console pages: the live chat desk (``/console/chats``) and a chat's transcript.

The desk runs on the agents' chat socket (``WS /v1/staff/support/chat``, docs/chat.md):
the page is the shell, ``static/console/chats.js`` the client. The socket authenticates
with a staff access token in its first frame; the console holds a cookie, not a token, so
the script asks ``POST /console/chats/token`` (the form token in ``X-CSRF-Token``) for a
token of this cookie's own session each time it connects
(:func:`ewallet.chat.service.agent.socket_token`): signing out ends the desk too. The token
never appears in a URL or in the page.

Over the socket the agent sees the queue with positions, takes a chat, reads the
customer's conversation with the bot above their own, answers, hands the chat to another
agent online or back to the queue, ends it, and steps away (no new chats offered) or
comes back. Every console process can serve the desk: the customer may be connected to
another API process, the chat bus carries the wake-ups (docs/chat.md, "Several API
processes").

Without JavaScript the page says the desk needs it and lists the queue and the agent's
chats as they were when the page was drawn. ``/console/chats/{id}`` shows any chat's
transcript, audit-logged as the staff API's ``GET /v1/staff/support/chats/{id}``.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ewallet.chat.service import agent
from ewallet.http.deps import ServicesDep
from ewallet.web.console.auth import Supporter
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.pages import PAGE_HEADERS

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

SOCKET_PATH: Final = "/v1/staff/support/chat"
TOKEN_PATH: Final = "/console/chats/token"  # noqa: S105 -- a path, not a secret


@router.get("/chats")
async def chat_desk(request: Request, services: ServicesDep, staff: Supporter) -> Response:
    desk = await agent.desk(services, staff.staff_id)
    return await console_page(
        request,
        services,
        "console/chats/desk.html",
        desk=desk,
        socket_path=SOCKET_PATH,
        token_path=TOKEN_PATH,
        chat_enabled=services.settings.support_chat_enabled,
    )


@router.post("/chats/token")
async def chat_token(staff: Supporter, form: ConsoleForm, services: ServicesDep) -> Response:
    """A staff access token of this console session, for the chat socket's ``auth`` frame
    (signed in with the desk's role first, then the form token in ``X-CSRF-Token``)."""
    token = agent.socket_token(services, staff)
    return JSONResponse({"token": token}, headers=PAGE_HEADERS)


@router.get("/chats/{chat_id}")
async def chat_transcript(
    chat_id: str, request: Request, services: ServicesDep, staff: Supporter
) -> Response:
    chat, lines = await agent.staff_chat(services, staff.actor(), chat_id=chat_id)
    return await console_page(
        request, services, "console/chats/transcript.html", chat=chat, lines=lines
    )
