"""Top-ups from a bound card: one debit at the bank per top-up, ever.

The flow (API.md ``POST /v1/topups`` with ``method: card``, :func:`top_up_from_card`):

1. a rerun of a request that already made its top-up answers that top-up's state
   (:func:`resume_card_topup`) -- before the PIN, so a retry costs no attempt;
2. the payment password (``require_payment_password``, :mod:`ewallet.identity.payment_password`);
3. in one unit: the account is not frozen, the card is the caller's and ``active`` (else
   ``not_found``, read under a share lock so an unbind cannot slip in), the risk decision
   (event ``card_topup``, :func:`ewallet.risk.decisions.decide_inflow`: a ``block`` -- card
   testing -- refuses with ``risk_declined`` before the bank is asked, recording no top-up),
   and the ``pending`` top-up row is inserted. Its bank request id is deterministic,
   ``topup:<id>``, so every later call about it (a query, a reconciliation) names the same
   operation at the bank;
4. the bank is asked to debit, outside any transaction;
5. ``succeeded``: :func:`credit_card_topup` posts ``bank_settlement:<bank>`` -> wallet with
   the ledger key ``topup:<id>``, marks the top-up ``succeeded`` and notifies the user, all
   in one unit guarded by a conditional ``UPDATE`` (credited at most once, however many
   settlers race); ``declined``: the top-up is ``failed`` with the bank's reason (the row
   stays as the record) and the caller gets ``bank_declined``; ``unknown`` (a timeout, a
   5xx, a dropped connection): the top-up stays ``pending``, its amount is carried in the
   suspense account (below), and it is settled later by
   :func:`ewallet.funding.topups.card.jobs.settle_pending_topups`, which queries the bank with
   the same request id, or by reconciliation against the bank's settlement file. The wallet
   never sends a second debit for a top-up.

Once the debit may have been sent, nothing escapes as a 500: if recording the bank's answer
fails, the top-up stays ``pending`` (answered ``202``) and the settle job finishes it.

**Suspense.** While the bank has not said whether it debited the card, the wallet neither
owes the user the money nor may forget it. The amount is booked ``bank_settlement:<bank>``
-> ``suspense`` (key ``topup:<id>:suspense``), so the suspense balance always shows how much
is in doubt. Debited: the wallet is credited *from suspense* (``topup:<id>``), which clears
it; not debited: ``suspense`` -> ``bank_settlement:<bank>`` (``topup:<id>:suspense_release``).
Each step runs in the unit that changes the top-up's status, and suspense is only booked
while the top-up is still ``pending`` under its row lock, so a settle job racing the
request's own path never books suspense for a top-up already credited.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Final, Literal

import structlog
from sqlalchemy.exc import IntegrityError

from ewallet.audit.service import Actor
from ewallet.funding.topups import repository
from ewallet.funding.topups.service import credit_topup, topup_for_request
from ewallet.funding.topups.views import TopupView
from ewallet.identity.guards import ensure_not_frozen
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.integrations.bank.errors import BankDeclinedError
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, NotFoundError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.ledger import Account, TransactionKind, apply_command, chart, transfer
from ewallet.ledger import repository as ledger_repository
from ewallet.models.funding import CardStatus, TopupMethod, TopupStatus
from ewallet.models.spending import AuthStrength
from ewallet.notify.service import notify_user
from ewallet.risk.decisions import InflowEvent, InflowFacts, RiskSettings, decide_inflow
from ewallet.services import Services

log = structlog.get_logger(__name__)


CardOutcome = Literal["succeeded", "pending"]
Credited = Literal["credited", "already_settled"]
# Only a pending card top-up can be settled; a failed one stays failed (see jobs.py).
_SETTLEABLE: Final = (TopupStatus.PENDING,)
_HOLD: Final = "suspense"
_RELEASE: Final = "suspense_release"


def bank_request_id(topup_id: str) -> str:
    """The deterministic id of a top-up's one debit at the bank."""
    return f"topup:{topup_id}"


@dataclass(frozen=True, slots=True)
class CardTopupResult:
    topup: TopupView
    outcome: CardOutcome


@dataclass(frozen=True, slots=True)
class _Started:
    topup: TopupView
    bank_code: str
    agreement_token: str


# ------------------------------------------------------------------------------ the use case


async def top_up_from_card(
    services: Services,
    user_id: str,
    actor: Actor,
    *,
    card_id: str,
    amount: Money,
    payment_password: str,
    request_key: RequestKey | None = None,
) -> CardTopupResult:
    """Debit the card once and credit the wallet (``outcome`` ``pending``: answer ``202``).

    Refusals, in order: a rerun of the same request answers the top-up it made (raising
    ``bank_declined`` if it failed) before anything else; the PIN check's refusals
    (``account_frozen``, ``payment_password_not_set``/``_locked``/``_invalid``); then
    ``account_frozen`` (under the lock), ``not_found`` (no such active card of the
    caller's), ``risk_declined`` (risk control refused it: no top-up is recorded and the
    bank is not asked), ``bank_declined`` (the top-up is recorded ``failed``) and
    ``upstream_unavailable`` (the bank could not be reached: nothing moved, the top-up is
    ``failed`` and the request key is let go).
    """
    # A rerun of a request that already made its top-up answers that one's state.
    earlier = await resume_card_topup(services, user_id=user_id, request_key=request_key)
    if earlier is not None:
        return earlier
    await require_payment_password(services, user_id=user_id, pin=payment_password, actor=actor)
    return await _debit_once(
        services, user_id=user_id, card_id=card_id, amount=amount, request_key=request_key
    )


async def resume_card_topup(
    services: Services, *, user_id: str, request_key: RequestKey | None
) -> CardTopupResult | None:
    """A rerun of a request that made a card top-up: its state now, never a second debit.

    ``None`` when the request made none yet; raises ``bank_declined`` if it failed.
    """
    earlier = await topup_for_request(services, user_id=user_id, request_key=request_key)
    return None if earlier is None else _answer(earlier)


def _answer(topup: TopupView) -> CardTopupResult:
    if topup.status == TopupStatus.FAILED:
        reason = topup.failure_reason or "declined"
        raise BankDeclinedError(f"the bank declined the debit: {reason}", reason=reason)
    succeeded = topup.status == TopupStatus.SUCCEEDED
    return CardTopupResult(topup, "succeeded" if succeeded else "pending")


async def _start(
    services: Services,
    *,
    user_id: str,
    card_id: str,
    amount: Money,
    request_key: str | None,
) -> _Started:
    topup_id = new_id("top")

    async def work(uow: UnitOfWork) -> _Started:
        conn = await uow.connection()
        await ensure_not_frozen(conn, user_id=user_id)
        card = await repository.share_locked_card(uow, card_id)
        if card is None or card.user_id != user_id or card.status != CardStatus.ACTIVE:
            raise NotFoundError("no such card")
        if card.agreement_token_encrypted is None:
            raise NotFoundError("no such card")
        token = services.security.cipher.decrypt(
            card.agreement_token_encrypted, context=f"agreement:{card.id}"
        )
        now = services.clock.now()
        facts = InflowFacts(
            user_id=user_id,
            amount=amount,
            event=InflowEvent.CARD_TOPUP,
            reference=f"topup:{topup_id}",
            auth=AuthStrength.PIN.value,  # the payment password was checked
        )
        await decide_inflow(
            uow, facts, now=now, settings=RiskSettings.from_settings(services.settings)
        )
        topup = await repository.insert_topup(
            conn,
            topup_id=topup_id,
            user_id=user_id,
            method=TopupMethod.CARD,
            card_id=card.id,
            amount=amount,
            status=TopupStatus.PENDING,
            request_key=request_key,
            now=now,
        )
        return _Started(topup, card.bank_code, token)

    return await run_unit(services.engine, work)


async def _debit_once(
    services: Services,
    *,
    user_id: str,
    card_id: str,
    amount: Money,
    request_key: RequestKey | None,
) -> CardTopupResult:
    """Record the top-up, ask the bank to debit (once), record its answer (module doc)."""
    digest = None if request_key is None else request_key.digest
    try:
        started = await _start(
            services, user_id=user_id, card_id=card_id, amount=amount, request_key=digest
        )
    except IntegrityError:
        # A concurrent run of the same request recorded it first: answer that one.
        earlier = await resume_card_topup(services, user_id=user_id, request_key=request_key)
        if earlier is None:
            raise
        return earlier
    topup = started.topup
    if request_key is not None:
        request_key.effect_possible()  # from here on, the key never goes back
    try:
        result = await services.bank.debit(
            agreement_token=started.agreement_token,
            amount=amount,
            request_id=bank_request_id(topup.id),
        )
    except (BankDeclinedError, DomainError) as error:
        # The gateway raises only when the request cannot have reached the bank. After a
        # 5xx the client may retry with the same key: the top-up lets go of it then.
        declined = isinstance(error, BankDeclinedError)
        reason = str(error) if declined else error.code
        if not await _recorded(_fail_now(services, started, reason, forget=not declined), topup):
            return await _state_now(services, topup)
        if not declined and request_key is not None:
            request_key.nothing_happened()
        raise
    except Exception:
        # Anything else (a bug included) may have reached the bank: pending, settled later.
        log.exception("funding.card_debit_failed", topup_id=topup.id)
        await _recorded(_carry_in_suspense(services, started), topup)
        return await _state_now(services, topup)
    log.info("funding.card_debit", topup_id=topup.id, status=result.status, reason=result.reason)
    if result.status == "succeeded":
        credited = credit_card_topup(
            services,
            topup=topup,
            bank_code=started.bank_code,
            bank_reference=result.bank_reference,
        )
        await _recorded(credited, topup)
        return await _state_now(services, topup)
    if result.status == "declined":
        reason = result.reason or "declined"
        if not await _recorded(_fail_now(services, started, reason), topup):
            return await _state_now(services, topup)
        raise BankDeclinedError(f"the bank declined the debit: {reason}", reason=reason)
    await _recorded(_carry_in_suspense(services, started), topup)
    return CardTopupResult(topup, "pending")


async def _carry_in_suspense(services: Services, started: _Started) -> None:
    await hold_unknown_in_suspense(services, started.topup, bank_code=started.bank_code)


async def _recorded(step: Awaitable[Any], topup: TopupView) -> bool:
    """Run a step recording the bank's answer; False (logged) if it could not be recorded.

    The card may have been debited: an error here must not become a 500 the client
    retries. The top-up stays ``pending`` and the settle job finishes it.
    """
    try:
        await step
    except Exception:
        log.exception("funding.card_topup_unrecorded", topup_id=topup.id)
        return False
    return True


async def _state_now(services: Services, topup: TopupView) -> CardTopupResult:
    """The top-up's answer as stored now; if even that read fails, still pending."""

    async def work(uow: UnitOfWork) -> TopupView | None:
        return await repository.load_topup(await uow.connection(), topup.id)

    try:
        current = await run_unit(services.engine, work, read_only=True)
    except Exception:
        log.exception("funding.card_topup_unread", topup_id=topup.id)
        return CardTopupResult(topup, "pending")
    assert current is not None
    return _answer(current)


async def _fail_now(
    services: Services, started: _Started, reason: str, *, forget: bool = False
) -> None:
    await mark_card_topup_failed(
        services, started.topup, bank_code=started.bank_code, reason=reason, forget_request=forget
    )


# ------------------------------------------------------------------------------ settling


async def mark_card_topup_failed(
    services: Services,
    topup: TopupView,
    *,
    bank_code: str,
    reason: str,
    notify: bool = False,
    forget_request: bool = False,
) -> bool:
    """``pending`` -> ``failed``, releasing any suspense; False if it was settled already.

    ``notify`` tells the owner (a settle job failing a top-up the user saw as pending); a
    request that fails at once answers the user directly instead. ``forget_request`` drops
    the request key, so the client's retry starts a new top-up.
    """
    bank, held = await settlement_accounts(services, bank_code, topup.amount.currency)
    clock = services.clock

    async def work(uow: UnitOfWork) -> bool:
        changed = await repository.fail_topup(
            await uow.connection(),
            topup.id,
            from_statuses=_SETTLEABLE,
            reason=reason,
            now=clock.now(),
            forget_request=forget_request,
        )
        if not changed:
            return False
        await release_suspense(services, uow, topup, bank_account_id=bank.id, held_id=held.id)
        if notify:
            params = {"amount": topup.amount.to_decimal_string(), "currency": topup.amount.currency}
            await notify_user(
                uow.session,
                clock=clock,
                user=await repository.owner(uow, topup.user_id),
                kind="topup_failed",
                params=params,
                sms=False,
                security=False,
            )
        return True

    return await run_unit(services.engine, work)


async def hold_unknown_in_suspense(services: Services, topup: TopupView, *, bank_code: str) -> bool:
    """The debit's outcome is unknown: carry the amount in suspense until it is settled.

    False (nothing booked) if the top-up is no longer ``pending`` under its row lock.
    """
    bank, held = await settlement_accounts(services, bank_code, topup.amount.currency)

    async def work(uow: UnitOfWork) -> bool:
        status = await repository.locked_status(await uow.connection(), topup.id)
        if status != TopupStatus.PENDING:
            return False
        await apply_command(
            uow,
            transfer(
                key=_suspense_key(topup.id),
                debit_account_id=bank.id,
                credit_account_id=held.id,
                amount=topup.amount,
                kind=TransactionKind.TOPUP,
                metadata={"topup_id": topup.id, "reason": "outcome_unknown"},
            ),
            clock=services.clock,
        )
        return True

    return await run_unit(services.engine, work)


async def credit_card_topup(
    services: Services,
    *,
    topup: TopupView,
    bank_code: str,
    bank_reference: str | None,
    creditable: tuple[TopupStatus, ...] = _SETTLEABLE,
) -> Credited:
    """Credit a debited card top-up exactly once (ledger key ``topup:<id>``) and notify.

    The money comes out of suspense when the top-up was carried there (its outcome was
    unknown), else straight from the bank's settlement account. ``creditable`` widens the
    statuses that may be credited: reconciliation credits a ``failed`` top-up the bank's
    settlement file shows as debited after all.
    """
    currency = topup.amount.currency
    settlement, held = await settlement_accounts(services, bank_code, currency)
    await chart.open_account(services.ledger, chart.wallet(topup.user_id, currency))

    async def work(uow: UnitOfWork) -> Credited:
        source = held if await is_in_suspense(uow, topup.id) else settlement
        credited = await credit_topup(
            uow,
            clock=services.clock,
            topup=topup,
            source_account_id=source.id,
            creditable=creditable,
            provider_reference=bank_reference,
            metadata={"bank": bank_code},
        )
        return "credited" if credited else "already_settled"

    credited = await run_unit(services.engine, work)
    log.info("funding.card_topup_credited", topup_id=topup.id, outcome=credited)
    return credited


async def settlement_accounts(
    services: Services, bank_code: str, currency: str
) -> tuple[Account, Account]:
    """The bank's settlement account and suspense, opened if new (outside any unit)."""
    bank = await chart.open_account(services.ledger, chart.bank_settlement(bank_code, currency))
    held = await chart.open_account(services.ledger, chart.suspense(currency))
    return bank, held


def _suspense_key(topup_id: str) -> str:
    return f"topup:{topup_id}:{_HOLD}"


def _release_key(topup_id: str) -> str:
    return f"topup:{topup_id}:{_RELEASE}"


async def is_in_suspense(uow: UnitOfWork, topup_id: str) -> bool:
    """Whether the top-up's amount is booked in suspense and not yet released."""
    keys = [_suspense_key(topup_id), _release_key(topup_id)]
    used = await ledger_repository.find_transaction_keys(await uow.connection(), keys)
    return _suspense_key(topup_id) in used and _release_key(topup_id) not in used


async def release_suspense(
    services: Services, uow: UnitOfWork, topup: TopupView, *, bank_account_id: int, held_id: int
) -> None:
    """The card was not debited: take the amount back out of suspense (if it was there)."""
    if not await is_in_suspense(uow, topup.id):
        return
    await apply_command(
        uow,
        transfer(
            key=_release_key(topup.id),
            debit_account_id=held_id,
            credit_account_id=bank_account_id,
            amount=topup.amount,
            kind=TransactionKind.ADJUSTMENT,
            metadata={"topup_id": topup.id, "reason": "not_debited"},
        ),
        clock=services.clock,
    )
