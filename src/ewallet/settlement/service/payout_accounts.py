"""Payout accounts: where a merchant or biller is paid.

The account number is stored encrypted, bound to its party (:func:`_context`); the bank is
looked up from the number (kit's card checks), and every change is audited.
"""

from __future__ import annotations

from typing import Final

from ewallet.audit.service import Actor, record_event
from ewallet.kit.bank_cards import lookup_card
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ValidationFailedError
from ewallet.models.settlement import PartyKind
from ewallet.services import Services
from ewallet.settlement import repository
from ewallet.settlement.errors import PartyNotFoundError, PayoutAccountNotFoundError
from ewallet.settlement.views import PayoutAccountView

MAX_HOLDER_NAME: Final = 64


def _context(kind: str, party_id: str) -> str:
    return f"payout_account:{kind}:{party_id}"


async def set_payout_account(
    services: Services,
    actor: Actor,
    *,
    party_kind: PartyKind,
    party_id: str,
    account_number: str,
    holder_name: str,
) -> PayoutAccountView:
    """Register (or replace) where a merchant or biller is paid (audited:
    ``settlement.payout_account_set``, the number masked). Refusals: ``validation_error``
    (not a valid card/account number of a known bank -- kit's card checks --, or an empty
    name); ``not_found`` (no such merchant or biller)."""
    number, found = lookup_card(account_number)
    name = " ".join(holder_name.split())
    if not name or len(name) > MAX_HOLDER_NAME:
        raise ValidationFailedError("the account holder's name is required (up to 64 characters)")
    encrypted = services.security.cipher.encrypt(number, context=_context(party_kind, party_id))
    clock = services.clock

    async def work(uow: UnitOfWork) -> PayoutAccountView:
        conn = await uow.connection()
        if await repository.party_name(conn, party_kind, party_id) is None:
            raise PartyNotFoundError(f"no such {party_kind}")
        await repository.save_payout_account(
            conn,
            {
                "party_kind": str(party_kind),
                "party_id": party_id,
                "account_number_encrypted": encrypted,
                "last4": number[-4:],
                "holder_name": name,
                "bank_code": found.bank.code,
                "bank_name": found.bank.name,
                "updated_by": (actor.id or str(actor.type))[:64],
            },
            clock.now(),
        )
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="settlement.payout_account_set",
            subject_type=str(party_kind),
            subject_id=party_id,
            details={"bank_code": found.bank.code, "last4": number[-4:], "holder_name": name},
        )
        view = await repository.payout_account(conn, party_kind, party_id)
        assert view is not None
        return view

    return await run_unit(services.engine, work)


async def get_payout_account(
    services: Services, *, party_kind: PartyKind, party_id: str
) -> PayoutAccountView:
    async def work(uow: UnitOfWork) -> PayoutAccountView | None:
        return await repository.payout_account(await uow.connection(), party_kind, party_id)

    view = await run_unit(services.engine, work, read_only=True)
    if view is None:
        raise PayoutAccountNotFoundError("no payout account registered")
    return view
