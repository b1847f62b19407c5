"""Pages of the wallet: transfers to a phone number, the payee confirmed before the PIN.

``/transfer`` (the payee's phone number, the amount, an optional note) posts to
``/transfer/confirm``, which shows whom the number belongs to -- masked name and masked
phone, as ``POST /v1/transfers/preview`` answers, with its cap on look-ups -- and asks for
the payment password; a POST, so the number never appears in a URL. ``POST /transfer`` makes
the transfer (``transfers.service.create_transfer``: the same refusals as the API, in its
order) and sends the browser to the receipt ``/transfers/{id}``, which only the sender and
the payee can read. "Change" on the confirmation goes back to the filled-in form.

The confirmation form carries the page's ``form_key``: posting it twice (a double tap, a
reload) finds the transfer the first post made and shows it, instead of sending the money
again. Refusals are shown on the page they came from, in the reader's language, with what
was typed kept (never the PIN).

A transfer risk control challenges (``step_up_required``) is not refused: the step-up page
(:mod:`ewallet.web.wallet.spend_step_up`) asks for the texted code (or the authenticator's)
and the PIN again, and posts back here with the challenge id, which sends it once.

Arrival options (docs/transfers.md): the first step offers real time, within 2 hours and
next day, the user's default (``/me/transfer-settings``) preselected; the confirmation
repeats the choice. A first transfer to someone shows the scam warning and a box to tick
(``acknowledge_new_payee``): without it the service refuses before the PIN is checked and
the confirmation says so. A scheduled transfer's receipt has a Cancel button (a CSRF-checked
POST to ``/transfers/{id}/cancel``) until it arrives.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError
from ewallet.kit.phone import parse_phone
from ewallet.models.transfers import Arrival
from ewallet.transfers.arrival.service import (
    cancel_transfer,
    change_transfer_settings,
    transfer_settings,
    with_default_arrival,
)
from ewallet.transfers.service import (
    MEMO_MAX_LENGTH,
    check_memo,
    create_transfer,
    get_transfer,
    preview_transfer,
)
from ewallet.transfers.views import TransferView
from ewallet.wallet.service import wallet_view, wallet_view_read
from ewallet.wallet.views import WalletView
from ewallet.web.kit.auth import WebUser, actor_of, read_as_user
from ewallet.web.kit.forms import Form, PostedForm, amount_minor_or_none, form_request_key
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.refusals import money_refusal
from ewallet.web.kit.routing import WebRoute
from ewallet.web.kit.templates import money
from ewallet.web.wallet import spend_step_up
from ewallet.web.wallet.register import page_caller

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FORM = "wallet/transfers/form.html"
CONFIRM = "wallet/transfers/confirm.html"
RECEIPT = "wallet/transfers/receipt.html"
SETTINGS = "wallet/transfers/settings.html"
PURPOSE = "transfer"
ARRIVALS = tuple(arrival.value for arrival in Arrival)


def _transfer_refusal(request: Request, error: DomainError) -> str:
    locale = locale_of(request)
    if error.code == "not_found":
        return _t("No wallet is registered with this phone number. Check the number.", locale)
    if error.code == "validation_error" and error.extra.get("field") == "memo":
        text = _t("The note can be at most %(num)s characters.", locale)
        return text % {"num": MEMO_MAX_LENGTH}
    if error.code == "new_payee_confirmation_required":
        return _t("Tick the box to confirm you have checked who this person is.", locale)
    if error.code == "transfer_not_cancellable":
        return _t("This transfer has already arrived or been cancelled.", locale)
    return money_refusal(request, error)


def _arrival(text: str) -> Arrival:
    """The arrival a form names; anything else is real time (the form offers only these)."""
    return Arrival(text) if text in ARRIVALS else Arrival.REALTIME


def _typed(form: Form) -> dict[str, str]:
    """What the person typed on the first step, to show it again."""
    return {
        "to_phone": form.text("to_phone"),
        "amount": form.text("amount"),
        "memo": form.text("memo"),
        "arrival": _arrival(form.text("arrival")).value,
    }


async def _first_step(
    request: Request,
    services: ServicesDep,
    typed: dict[str, str],
    *,
    wallet: WalletView | None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return await page(
        request,
        services,
        FORM,
        status_code=status_code,
        error=error,
        wallet=wallet,
        memo_max=MEMO_MAX_LENGTH,
        to_phone=typed["to_phone"],
        amount=typed["amount"],
        memo=typed["memo"],
        arrival=typed["arrival"],
        arrivals=ARRIVALS,
    )


@router.get("/transfer")
async def transfer_page(request: Request, services: ServicesDep) -> Response:
    read = with_default_arrival(wallet_view_read(services))
    _user, (wallet, default) = await read_as_user(request, services, read)
    typed = {"to_phone": "", "amount": "", "memo": "", "arrival": default.value}
    return await _first_step(request, services, typed, wallet=wallet)


@router.post("/transfer/edit")
async def edit_transfer(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    """ "Change" on the confirmation: the first step again, filled in as it was."""
    wallet = await wallet_view(services, user.user_id)
    return await _first_step(request, services, _typed(form), wallet=wallet)


@router.get("/transfer/confirm")
async def confirm_reloaded(user: WebUser) -> Response:
    """The confirmation is the answer to a post: opened by its address (a bookmark, a
    reload that does not post again) it starts over at the first step."""
    return see_other("/transfer")


@router.post("/transfer/confirm")
async def confirm_transfer(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    typed = _typed(form)
    try:
        amount = parse_amount(typed["amount"])
        check_memo(typed["memo"] or None)
        payee = await preview_transfer(services, user.user_id, to_phone=typed["to_phone"])
    except DomainError as error:
        return await _first_step(
            request,
            services,
            typed,
            wallet=None,
            error=_transfer_refusal(request, error),
            status_code=error.status,
        )
    return await page(
        request,
        services,
        CONFIRM,
        locked=False,
        to_phone=typed["to_phone"],
        amount=amount.to_decimal_string(),
        amount_minor=amount.minor,
        memo=typed["memo"],
        arrival=typed["arrival"],
        payee_name=payee.party.name_masked or "",
        payee_phone=payee.party.phone_masked,
        new_payee=payee.new_payee,
        acknowledged=False,
        warning_error=False,
    )


def _movement(request: Request, form: Form) -> spend_step_up.Movement:
    """The transfer as its step-up page shows it and posts it back."""
    locale = locale_of(request)
    names = (
        "to_phone",
        "amount",
        "memo",
        "arrival",
        "acknowledge_new_payee",
        "payee_name",
        "payee_phone",
        "new_payee",
        "form_key",
    )
    payee = " ".join(part for part in (form.text("payee_name"), form.text("payee_phone")) if part)
    minor = amount_minor_or_none(form.text("amount"))
    return spend_step_up.Movement(
        action="/transfer",
        restart="/transfer",
        summary=(
            (_t("Transfer to", locale), payee or form.text("to_phone")),
            (_t("Amount", locale), form.text("amount") if minor is None else money(minor)),
        ),
        fields={name: form.text(name) for name in names},
    )


@router.post("/transfer")
async def send_transfer(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep, caller: CallerDep
) -> Response:
    typed = _typed(form)
    step = spend_step_up.StepUpForm.of(form)
    caller = page_caller(request, caller)
    if step is not None:
        movement = _movement(request, form)
        if step.resend:
            return await spend_step_up.resend(
                request, services, caller=caller, user=user, movement=movement, step=step
            )
        try:
            await spend_step_up.prove(services, caller, user, step)
        except DomainError as error:
            return await spend_step_up.step_up_page(
                request,
                services,
                movement,
                challenge_id=step.challenge_id,
                methods=step.methods,
                error=refusal(request, error),
                status_code=error.status,
            )
    try:
        amount = parse_amount(typed["amount"])
        view = await create_transfer(
            services,
            actor_of(request, user),
            sender_id=user.user_id,
            to_phone=parse_phone(typed["to_phone"]),
            amount=amount,
            memo=typed["memo"] or None,
            payment_password=form["payment_password"],
            caller=caller,
            device_id=user.device_id,
            challenge_id=None if step is None else step.challenge_id,
            request_key=form_request_key(user.user_id, form, PURPOSE),
            arrival=_arrival(typed["arrival"]),
            new_payee_acknowledged=form.text("acknowledge_new_payee") == "1",
        )
    except DomainError as error:
        if spend_step_up.challenged(error):
            return await spend_step_up.challenge_page(
                request, services, _movement(request, form), error
            )
        if step is not None and error.code == "payment_password_invalid":
            # The code passed; only the PIN was wrong: ask for it alone.
            return await spend_step_up.step_up_page(
                request,
                services,
                _movement(request, form),
                challenge_id=step.challenge_id,
                methods=step.methods,
                proven=True,
                error=_transfer_refusal(request, error),
                status_code=error.status,
            )
        # The payee as the confirmation showed them (display only: the transfer itself
        # always goes to the number, checked again by the service).
        return await page(
            request,
            services,
            CONFIRM,
            status_code=error.status,
            error=_transfer_refusal(request, error),
            locked=error.code == "payment_password_locked",
            to_phone=typed["to_phone"],
            amount=typed["amount"],
            amount_minor=amount_minor_or_none(typed["amount"]),
            memo=typed["memo"],
            arrival=typed["arrival"],
            payee_name=form.text("payee_name"),
            payee_phone=form.text("payee_phone"),
            new_payee=form["new_payee"] == "1",
            acknowledged=form.text("acknowledge_new_payee") == "1",
            warning_error=error.code == "new_payee_confirmation_required",
        )
    return see_other(f"/transfers/{view.id}")


async def _receipt(
    request: Request,
    services: ServicesDep,
    view: TransferView,
    user_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return await page(
        request,
        services,
        RECEIPT,
        status_code=status_code,
        error=error,
        transfer=view,
        outgoing=view.direction_for(user_id) == "out",
        other=view.counterparty_for(user_id),
    )


@router.get("/transfers/{transfer_id}")
async def transfer_receipt(
    request: Request, transfer_id: str, user: WebUser, services: ServicesDep
) -> Response:
    view = await get_transfer(services, user.user_id, transfer_id=transfer_id)
    return await _receipt(request, services, view, user.user_id)


@router.post("/transfers/{transfer_id}/cancel")
async def cancel_scheduled(
    request: Request, transfer_id: str, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    """Cancel on a scheduled transfer's receipt: the money back, the receipt again."""
    try:
        await cancel_transfer(services, user_id=user.user_id, transfer_id=transfer_id)
    except DomainError as error:
        if error.code == "not_found":
            raise
        view = await get_transfer(services, user.user_id, transfer_id=transfer_id)
        refused = _transfer_refusal(request, error)
        return await _receipt(
            request, services, view, user.user_id, error=refused, status_code=error.status
        )
    return see_other(f"/transfers/{transfer_id}")


@router.get("/me/transfer-settings")
async def settings_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    view = await transfer_settings(services, user.user_id)
    return await page(
        request,
        services,
        SETTINGS,
        default_arrival=view.default_arrival,
        arrivals=ARRIVALS,
        saved=False,
    )


@router.post("/me/transfer-settings")
async def save_settings(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    view = await change_transfer_settings(
        services, user.user_id, default_arrival=_arrival(form.text("default_arrival"))
    )
    return await page(
        request,
        services,
        SETTINGS,
        default_arrival=view.default_arrival,
        arrivals=ARRIVALS,
        saved=True,
    )
