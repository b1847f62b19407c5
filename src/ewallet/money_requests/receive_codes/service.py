"""Personal receive codes (收款码): the owner's code, and paying someone else's.

Every customer has one code, made on first read: a random token of 32 url-safe characters
(:func:`secrets.token_urlsafe`), so a code cannot be guessed or walked. Its QR holds the web
wallet's ``/r/<token>`` (:data:`RECEIVE_PATH`). The owner may fix an amount and a note
(:func:`set_receive_terms`) or reset the code (:func:`reset_receive_code`): a new token
overwrites the old one in the same row, so an old printed or shared QR answers
``not_found`` at once.

Paying a code is a transfer. :func:`describe_receive_code` reads whom it pays the way a
transfer's confirmation does (:func:`ewallet.transfers.service.preview_transfer`: the
look-up cap, ``transfer_to_self`` for one's own code, ``not_found`` for a closed account,
``payee_account_frozen`` for a frozen one), and :func:`pay_receive_code` calls
:func:`ewallet.transfers.service.create_transfer` to the owner's number -- PIN, limits,
risk, step-up and the request key exactly as for any transfer. The code's fixed amount, when
set, is the amount; a different one typed is ``validation_error`` (``field: amount``).
"""

from __future__ import annotations

import secrets
from typing import Final

from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor
from ewallet.config import Settings
from ewallet.identity.runtime import Caller
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.money import DEFAULT_CURRENCY, Money
from ewallet.kit.request_key import RequestKey
from ewallet.money_requests.receive_codes import repository
from ewallet.money_requests.receive_codes.repository import StoredCode
from ewallet.money_requests.receive_codes.views import ReceiveCodeView, ReceiveTarget
from ewallet.money_requests.service import check_note
from ewallet.services import Services
from ewallet.transfers.service import create_transfer, preview_transfer
from ewallet.transfers.views import TransferView

RECEIVE_PATH: Final = "/r"
TOKEN_BYTES: Final = 24  # 32 characters once encoded


def receive_url(settings: Settings, token: str) -> str:
    """The URL a receive code's QR holds. The base is the one the payment links use
    (``EWALLET_PUBLIC_URL``, else the PSP callback base, else the local address)."""
    base = (
        settings.public_url or settings.psp_public_url or f"http://{settings.host}:{settings.port}"
    )
    return f"{base.rstrip('/')}{RECEIVE_PATH}/{token}"


def _view(settings: Settings, code: StoredCode) -> ReceiveCodeView:
    return ReceiveCodeView(
        token=code.token,
        url=receive_url(settings, code.token),
        fixed_amount=code.fixed_amount,
        note=code.note,
        updated_at=code.updated_at,
    )


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


async def _own_code(services: Services, user_id: str) -> StoredCode:
    """The user's code, made now if they have none (two first reads at once: one wins)."""

    async def read(uow: UnitOfWork) -> StoredCode | None:
        return await repository.code_of(await uow.connection(), user_id)

    async def make(uow: UnitOfWork) -> StoredCode | None:
        conn = await uow.connection()
        found = await repository.code_of(conn, user_id)
        if found is None:
            now = services.clock.now()
            await repository.insert_code(
                conn, user_id=user_id, token=_new_token(), currency=DEFAULT_CURRENCY, now=now
            )
            found = await repository.code_of(conn, user_id)
        return found

    code = await run_unit(services.engine, read, read_only=True)
    if code is None:
        try:
            code = await run_unit(services.engine, make)
        except IntegrityError:
            code = await run_unit(services.engine, read, read_only=True)
    if code is None:
        raise NotFoundError("no such user")
    return code


async def my_receive_code(services: Services, user_id: str) -> ReceiveCodeView:
    """The user's receive code (made on first read)."""
    return _view(services.settings, await _own_code(services, user_id))


async def _change(services: Services, user_id: str, **values: object) -> ReceiveCodeView:
    await _own_code(services, user_id)

    async def work(uow: UnitOfWork) -> StoredCode | None:
        conn = await uow.connection()
        await repository.update_code(conn, user_id, services.clock.now(), **values)
        return await repository.code_of(conn, user_id)

    code = await run_unit(services.engine, work)
    assert code is not None
    return _view(services.settings, code)


async def set_receive_terms(
    services: Services, user_id: str, *, fixed_amount: Money | None, note: str | None
) -> ReceiveCodeView:
    """Fix the amount the code asks for and its note (None clears either)."""
    check_note(note)
    return await _change(
        services,
        user_id,
        fixed_amount=None if fixed_amount is None else fixed_amount.minor,
        currency=DEFAULT_CURRENCY if fixed_amount is None else fixed_amount.currency,
        note=note or None,
    )


async def reset_receive_code(services: Services, user_id: str) -> ReceiveCodeView:
    """A new token for the code: the old QR stops working at once."""
    return await _change(services, user_id, token=_new_token())


async def _code(services: Services, token: str) -> StoredCode:
    async def work(uow: UnitOfWork) -> StoredCode | None:
        return await repository.code_by_token(await uow.connection(), token)

    code = None if len(token) > 64 else await run_unit(services.engine, work, read_only=True)
    if code is None:
        raise NotFoundError("this receive code does not exist or was reset")
    return code


async def describe_receive_code(services: Services, *, payer_id: str, token: str) -> ReceiveTarget:
    """Whom ``token`` pays, for ``payer_id`` about to pay it (module doc's refusals)."""
    code = await _code(services, token)
    payee = await preview_transfer(services, payer_id, to_phone=code.owner_phone)
    return ReceiveTarget(token, payee, code.fixed_amount, code.note)


def _amount_to_pay(code: StoredCode, typed: Money | None) -> Money:
    if code.fixed_amount is not None:
        if typed is not None and typed != code.fixed_amount:
            raise ValidationFailedError("this code asks for a fixed amount", field="amount")
        return code.fixed_amount
    if typed is None:
        raise ValidationFailedError("enter the amount to pay", field="amount")
    return typed


async def pay_receive_code(
    services: Services,
    actor: Actor,
    *,
    payer_id: str,
    token: str,
    amount: Money | None,
    memo: str | None,
    payment_password: str,
    caller: Caller | None = None,
    device_id: str | None = None,
    challenge_id: str | None = None,
    request_key: RequestKey | None = None,
) -> TransferView:
    """Pay ``token``'s owner: a transfer to their number (module doc)."""
    code = await _code(services, token)
    return await create_transfer(
        services,
        actor,
        sender_id=payer_id,
        to_phone=code.owner_phone,
        amount=_amount_to_pay(code, amount),
        memo=memo or code.note,
        payment_password=payment_password,
        caller=caller,
        device_id=device_id,
        challenge_id=challenge_id,
        request_key=request_key,
    )
