"""Support tickets: ``/tickets`` (mine, newest first), ``/tickets/new``, ``/tickets/{id}``
(the thread, a reply, and once resolved a rating).

The same use cases as ``/v1/support/tickets``: the open-ticket quota, a reply reopening a
resolved ticket, a closed ticket refusing replies, one rating per resolved ticket -- all
the support service's. Internal notes never reach a customer view (the service filters
them out in its query), and another customer's ticket is ``not_found``: a 404 page, its
existence not confirmed. A ticket opened here has the channel ``web``.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError, ValidationFailedError
from ewallet.models.support import TicketCategory, TicketChannel, TicketStatus
from ewallet.services import Services
from ewallet.support.service import customer as support
from ewallet.support.views import TicketThread
from ewallet.web.kit.auth import WebUser
from ewallet.web.kit.forms import Form, PostedForm
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

LIST: Final = "wallet/tickets/list.html"
NEW: Final = "wallet/tickets/new.html"
THREAD: Final = "wallet/tickets/thread.html"
PAGE_SIZE: Final = 20
CATEGORIES: Final = tuple(category.value for category in TicketCategory)
NOTICES: Final = ("opened", "sent", "rated")


@router.get("/tickets")
async def my_tickets(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    listed = await support.my_tickets(services, user.user_id, limit=PAGE_SIZE, cursor=cursor)
    return await page(request, services, LIST, tickets=listed.items, next_cursor=listed.next_cursor)


@router.get("/tickets/new")
async def new_ticket_form(request: Request, user: WebUser, services: ServicesDep) -> Response:
    return await page(
        request, services, NEW, categories=CATEGORIES, subject="", category="", body=""
    )


@router.post("/tickets/new")
async def open_ticket(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    category = form.text("category")
    try:
        if category and category not in CATEGORIES:
            raise ValidationFailedError("unknown category")
        thread = await support.open_my_ticket(
            services,
            user.user_id,
            subject=form.text("subject"),
            body=form.text("body"),
            category=category or None,
            channel=TicketChannel.WEB,
        )
    except DomainError as error:
        return await page(
            request,
            services,
            NEW,
            status_code=error.status,
            categories=CATEGORIES,
            subject=form.text("subject"),
            category=category,
            body=form["body"],
            error=_refusal(
                request, error, _t("Write a subject and a message.", locale_of(request))
            ),
        )
    return see_other(f"/tickets/{thread.ticket.id}?done=opened")


@router.get("/tickets/{ticket_id}")
async def ticket_page(
    ticket_id: str,
    request: Request,
    user: WebUser,
    services: ServicesDep,
    done: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    thread = await support.my_ticket(services, user.user_id, ticket_id=ticket_id)
    return await _thread_page(request, services, thread, notice=done if done in NOTICES else None)


async def _thread_page(
    request: Request,
    services: Services,
    thread: TicketThread,
    *,
    notice: str | None = None,
    form: Form | None = None,
    error: str | None = None,
    error_in: str | None = None,
    status_code: int = 200,
) -> Response:
    ticket = thread.ticket
    files: dict[str, list[str]] = {}
    for attachment in thread.attachments:
        files.setdefault(attachment.message_id, []).append(attachment.filename)
    return await page(
        request,
        services,
        THREAD,
        status_code=status_code,
        ticket=ticket,
        messages=thread.messages,
        files=files,
        can_reply=ticket.status != TicketStatus.CLOSED,
        can_rate=ticket.rated_at is None
        and ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED),
        notice=notice,
        error=error,
        error_in=error_in,
        reply=form["body"] if form is not None and error_in == "reply" else "",
        rating=form["rating"] if form is not None and error_in == "rating" else "",
        comment=form["comment"] if form is not None and error_in == "rating" else "",
    )


@router.post("/tickets/{ticket_id}")
async def write_on_ticket(
    ticket_id: str, request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    """The thread's forms post back to it: ``do=reply`` (a message; a resolved ticket
    reopens) or ``do=rate`` (1 to 5 and an optional comment, once, when resolved).
    Another customer's ticket is a 404 page; a refusal shows the thread again with the
    form as it was typed."""
    rating = form.text("rating")
    try:
        if form["do"] == "rate":
            if rating not in ("1", "2", "3", "4", "5"):
                raise ValidationFailedError("choose a rating from 1 to 5")
            await support.rate_my_ticket(
                services,
                user.user_id,
                ticket_id=ticket_id,
                rating=int(rating),
                comment=form.text("comment")[:1000] or None,
            )
            return see_other(f"/tickets/{ticket_id}?done=rated#rating")
        await support.write_on_my_ticket(
            services, user.user_id, ticket_id=ticket_id, body=form.text("body")
        )
        return see_other(f"/tickets/{ticket_id}?done=sent#latest")
    except DomainError as error:
        if error.code == "not_found":
            raise
        rating_form = form["do"] == "rate"
        if rating_form:
            in_words = _t("Choose a rating from 1 to 5.", locale_of(request))
        else:
            in_words = _t("Write a message before sending.", locale_of(request))
        thread = await support.my_ticket(services, user.user_id, ticket_id=ticket_id)
        return await _thread_page(
            request,
            services,
            thread,
            form=form,
            error=_refusal(request, error, in_words),
            error_in="rating" if rating_form else "reply",
            status_code=error.status,
        )


def _refusal(request: Request, error: DomainError, in_words: str) -> str:
    """A refusal for one of these forms; a field the service found empty or wrong is said
    ``in_words`` (the service's own sentence is for logs: it names API fields)."""
    if error.code == "validation_error":
        return in_words
    return refusal(request, error)
