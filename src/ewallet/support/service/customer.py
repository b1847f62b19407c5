"""What a customer does with support over the API: their tickets and their mail address.

Each function is a whole use case with its own unit of work, for the customer ``user_id``
(the actor). Another customer's ticket is always ``not_found`` (never forbidden): its
existence is not confirmed.
"""

from __future__ import annotations

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.pagination import Page
from ewallet.models.support import AuthorType, SupportTicket, TicketChannel
from ewallet.services import Services
from ewallet.support import repository as repo
from ewallet.support.errors import SupportEmailCodeInvalidError
from ewallet.support.mail import service as mail
from ewallet.support.service import lifecycle, quota, tickets
from ewallet.support.views import SupportEmail, TicketThread


async def my_ticket(services: Services, user_id: str, *, ticket_id: str) -> TicketThread:
    """The customer's own ticket with its public messages and their attachments."""

    async def work(uow: UnitOfWork) -> TicketThread:
        thread = await repo.ticket_thread(
            uow.session, ticket_id=ticket_id, user_id=user_id, include_internal=False
        )
        if thread is None:
            raise NotFoundError("no such ticket")
        return thread

    return await run_unit(services.engine, work, read_only=True)


async def my_tickets(
    services: Services, user_id: str, *, limit: int, cursor: str | None
) -> Page[SupportTicket]:
    """The customer's tickets, newest first."""

    async def work(uow: UnitOfWork) -> Page[SupportTicket]:
        return await repo.customer_tickets(uow.session, user_id=user_id, limit=limit, cursor=cursor)

    return await run_unit(services.engine, work, read_only=True)


async def open_my_ticket(
    services: Services,
    user_id: str,
    *,
    subject: str,
    body: str,
    category: str | None,
    channel: TicketChannel = TicketChannel.API,
) -> TicketThread:
    """Open a ticket (channel ``api``, or ``web`` from the wallet's pages) and return it as
    the customer sees it.

    Refusals, in order: the customer's quota (``rate_limited``, see
    :mod:`ewallet.support.service.quota`), then :func:`tickets.open_ticket`'s.
    """

    async def work(uow: UnitOfWork) -> str:
        await quota.reserve_customer_ticket(services, uow, user_id=user_id)
        return await tickets.open_ticket(
            services,
            uow,
            user_id=user_id,
            email=None,
            subject=subject,
            body=body,
            channel=channel,
            category=category,
            author_id=user_id,
        )

    ticket_id = await run_unit(services.engine, work)
    return await my_ticket(services, user_id, ticket_id=ticket_id)


async def write_on_my_ticket(
    services: Services, user_id: str, *, ticket_id: str, body: str
) -> tuple[str, TicketThread]:
    """Add the customer's message (it reopens a resolved ticket); returns its id and the ticket.

    Refusals: :func:`tickets.add_message`'s (another customer's ticket is ``not_found``).
    """

    async def work(uow: UnitOfWork) -> str:
        return await tickets.add_message(
            services,
            uow,
            ticket_id=ticket_id,
            author_type=AuthorType.CUSTOMER,
            author_id=user_id,
            body=body,
        )

    message_id = await run_unit(services.engine, work)
    return message_id, await my_ticket(services, user_id, ticket_id=ticket_id)


async def rate_my_ticket(
    services: Services, user_id: str, *, ticket_id: str, rating: int, comment: str | None
) -> TicketThread:
    """Rate a resolved ticket once; refusals: :func:`lifecycle.rate_ticket`'s."""

    async def work(uow: UnitOfWork) -> None:
        await lifecycle.rate_ticket(
            services, uow, ticket_id=ticket_id, user_id=user_id, rating=rating, comment=comment
        )

    await run_unit(services.engine, work)
    return await my_ticket(services, user_id, ticket_id=ticket_id)


async def my_email(services: Services, user_id: str) -> SupportEmail:
    """The customer's support mail address and whether it is proven."""

    async def work(uow: UnitOfWork) -> SupportEmail:
        row = await mail.current_address(uow, user_id)
        if row is None:
            return SupportEmail(email=None, verified=False)
        return SupportEmail(email=row.email, verified=row.verified_at is not None)

    return await run_unit(services.engine, work, read_only=True)


async def claim_my_email(services: Services, user_id: str, *, email: str) -> SupportEmail:
    """Name an address and mail it a code; refusal: ``support_email_taken``."""

    async def work(uow: UnitOfWork) -> None:
        await mail.claim_address(services, uow, user_id=user_id, email=email)

    await run_unit(services.engine, work)
    return SupportEmail(email=email, verified=False)


async def verify_my_email(services: Services, user_id: str, *, code: str) -> SupportEmail:
    """Prove the address with the mailed code.

    Refusals, in order: another account proved it meanwhile (``support_email_taken``), a
    wrong or expired code (``support_email_code_invalid``, after the spent code committed).
    """

    async def work(uow: UnitOfWork) -> SupportEmail | None:
        row = await mail.verify_address(services, uow, user_id=user_id, code=code)
        return None if row is None else SupportEmail(email=row.email, verified=True)

    result = await run_unit(services.engine, work)
    if result is None:
        raise SupportEmailCodeInvalidError("the code is wrong or expired; ask for a new one")
    return result
