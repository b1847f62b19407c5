"""Reading the development outbox: what ``ewallet dev outbox`` prints and the console shows.

With ``EWALLET_SMS_PROVIDER=outbox`` (the development default) texts are kept in
``sms_messages`` instead of being sent, and without ``EWALLET_SMTP_URL`` mails are kept in
``email_messages``. These functions read them, newest first. They exist only in
development: elsewhere every one answers ``not_found``, as if there were no outbox at all
(production refuses the capturing providers at start-up; this keeps a copied database's
old captures out of sight too).
"""

from __future__ import annotations

from typing import Final

from ewallet.config import Environment
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.phone import parse_phone
from ewallet.notify.dev_outbox import repository
from ewallet.notify.dev_outbox.views import CapturedMail, CapturedMessages, CapturedSms
from ewallet.services import Services

MAX_LIMIT: Final = 10_000
MAX_ADDRESS: Final = 254


def require_development(services: Services) -> None:
    """Refuse (``not_found``) outside development: there is no outbox to read there."""
    if services.settings.env is not Environment.DEVELOPMENT:
        raise NotFoundError("the SMS and mail outbox exists in development only")


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailedError(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def _address(to: str) -> str:
    address = to.strip().lower()
    if not address or len(address) > MAX_ADDRESS:
        raise ValidationFailedError(f"an email address has 1 to {MAX_ADDRESS} characters")
    return address


async def captured_sms(
    services: Services, *, phone: str | None = None, limit: int = 100
) -> list[CapturedSms]:
    """The newest ``limit`` kept texts, newest first; ``phone`` in any format sign-up takes.

    Refusals, in order: not development (``not_found``), a limit out of range
    (``validation_error``), a malformed phone number (``invalid_phone``).
    """
    require_development(services)
    limit = _check_limit(limit)
    recipient = None if phone is None else parse_phone(phone)

    async def work(uow: UnitOfWork) -> list[CapturedSms]:
        return await repository.newest_sms(await uow.connection(), phone=recipient, limit=limit)

    return await run_unit(services.engine, work, read_only=True)


async def captured_mail(
    services: Services, *, to: str | None = None, limit: int = 100
) -> list[CapturedMail]:
    """The newest ``limit`` kept mails, newest first; ``to`` an address, in any case.

    Refusals, in order: not development (``not_found``), a limit out of range or an
    empty or overlong address (``validation_error``).
    """
    require_development(services)
    limit = _check_limit(limit)
    address = None if to is None else _address(to)

    async def work(uow: UnitOfWork) -> list[CapturedMail]:
        return await repository.newest_mail(await uow.connection(), to=address, limit=limit)

    return await run_unit(services.engine, work, read_only=True)


async def captured_messages(
    services: Services, *, recipient: str | None = None, limit: int = 50
) -> CapturedMessages:
    """Texts and mails, newest first, in one read: what the console's outbox page shows.

    ``recipient`` is a phone number (then only texts to it) or, with an ``@``, an email
    address (then only mails to it); blank or None shows both kinds. Refusals, in order:
    not development (``not_found``), a limit out of range or a bad address
    (``validation_error``), a malformed phone number (``invalid_phone``).
    """
    require_development(services)
    limit = _check_limit(limit)
    wanted = (recipient or "").strip()
    phone = address = None
    if "@" in wanted:
        address = _address(wanted)
    elif wanted:
        phone = parse_phone(wanted)

    async def work(uow: UnitOfWork) -> CapturedMessages:
        conn = await uow.connection()
        sms = [] if address else await repository.newest_sms(conn, phone=phone, limit=limit)
        mail = [] if phone else await repository.newest_mail(conn, to=address, limit=limit)
        return CapturedMessages(sms=sms, mail=mail, phone=phone, address=address)

    return await run_unit(services.engine, work, read_only=True)
