"""Pages of the wallet: my receive code (收款码) and paying someone else's.

``/receive`` shows the customer's own code -- the QR (inline SVG) of ``/r/<token>``, the
link itself, and the optional fixed amount and note -- with a form to set or clear them
(``POST /receive/terms``) and one to reset the code (``POST /receive/reset``: the old QR
stops working). Each calls the same use case as ``/v1/me/receive-code``
(:mod:`ewallet.money_requests.receive_codes.service`).

``/r/<token>`` is what the QR opens on the payer's phone (signed out: sign in, then back
here, as ``WebRoute`` does). It shows whom the code pays -- masked name and masked phone, as
a transfer's confirmation does, with the first-time warning -- and the code's fixed amount
or an amount field, asks for the payment password and pays with
:func:`~ewallet.money_requests.receive_codes.service.pay_receive_code`: a transfer, with the
transfer's refusals, the same ``form_key`` rule (a double post pays once) and the same
step-up page when risk control asks for one; the receipt is the transfer's
``/transfers/{id}``. A code that cannot be paid (reset, one's own, a frozen payee) is
explained before anything is asked.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError
from ewallet.kit.money import Money
from ewallet.money_requests.receive_codes import service
from ewallet.money_requests.service import NOTE_MAX_LENGTH
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import Form, PostedForm, amount_minor_or_none, form_request_key
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, see_other
from ewallet.web.kit.qr import qr_svg
from ewallet.web.kit.refusals import money_refusal
from ewallet.web.kit.routing import WebRoute
from ewallet.web.kit.templates import money
from ewallet.web.wallet import spend_step_up
from ewallet.web.wallet.register import page_caller

router = APIRouter(route_class=WebRoute, include_in_schema=False)

MINE = "wallet/receive/mine.html"
PAY = "wallet/receive/pay.html"
PURPOSE = "receive-code"


def _refusal(request: Request, error: DomainError) -> str:
    locale = locale_of(request)
    if error.code == "not_found":
        return _t(
            "This receive code no longer works. Ask the person for their current code.", locale
        )
    if error.code == "transfer_to_self":
        return _t("This is your own receive code: show it to the person who pays you.", locale)
    if error.code == "validation_error" and error.extra.get("field") == "amount":
        return _t("Enter the amount to pay.", locale)
    if error.code == "validation_error" and error.extra.get("field") == "note":
        return _t("The note can be at most %(num)s characters.", locale) % {"num": NOTE_MAX_LENGTH}
    return money_refusal(request, error)


async def _mine(
    request: Request,
    services: ServicesDep,
    user_id: str,
    *,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
    done: str | None = None,
) -> Response:
    code = await service.my_receive_code(services, user_id)
    locale = locale_of(request)
    fixed = "" if code.fixed_amount is None else code.fixed_amount.to_decimal_string()
    return await page(
        request,
        services,
        MINE,
        status_code=200 if error is None else error.status,
        code=code,
        qr=qr_svg(code.url, _t("Your receive code", locale)),
        error=None if error is None else _refusal(request, error),
        done=done,
        amount=fixed if typed is None else typed["amount"],
        note=(code.note or "") if typed is None else typed["note"],
        note_max=NOTE_MAX_LENGTH,
    )


@router.get("/receive")
async def receive_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    """The code; ``?saved=1`` / ``?reset=1`` after a change say it was made."""
    query = request.query_params
    done = "saved" if query.get("saved") == "1" else "reset" if query.get("reset") == "1" else None
    return await _mine(request, services, user.user_id, done=done)


@router.post("/receive/terms")
async def set_terms(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    """Fix (or clear, when left empty) the amount and the note."""
    typed = {"amount": form.text("amount"), "note": form.text("note")}
    try:
        fixed: Money | None = parse_amount(typed["amount"]) if typed["amount"] else None
        await service.set_receive_terms(
            services, user.user_id, fixed_amount=fixed, note=typed["note"] or None
        )
    except DomainError as error:
        return await _mine(request, services, user.user_id, error=error, typed=typed)
    return see_other("/receive?saved=1")


@router.post("/receive/reset")
async def reset(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    await service.reset_receive_code(services, user.user_id)
    return see_other("/receive?reset=1")


async def _pay_page(
    request: Request,
    services: ServicesDep,
    user_id: str,
    token: str,
    *,
    typed: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    """The page for ``token``: whom it pays and the form, or why it cannot be paid."""
    typed = typed or {"amount": "", "memo": ""}
    try:
        target = await service.describe_receive_code(services, payer_id=user_id, token=token)
    except DomainError as refused:
        return await page(
            request,
            services,
            PAY,
            status_code=refused.status,
            target=None,
            blocked=_refusal(request, refused),
            token=token,
            note_max=NOTE_MAX_LENGTH,
            **typed,
        )
    return await page(
        request,
        services,
        PAY,
        status_code=200 if error is None else error.status,
        target=target,
        blocked=None,
        error=None if error is None else _refusal(request, error),
        locked=error is not None and error.code == "payment_password_locked",
        token=token,
        note_max=NOTE_MAX_LENGTH,
        **typed,
    )


@router.get("/r/{token}")
async def pay_page(token: str, request: Request, user: WebUser, services: ServicesDep) -> Response:
    return await _pay_page(request, services, user.user_id, token)


def _typed(form: Form) -> dict[str, str]:
    return {"amount": form.text("amount"), "memo": form.text("memo")}


async def _movement(
    request: Request, services: ServicesDep, user_id: str, token: str, form: Form
) -> spend_step_up.Movement:
    """The payment as its step-up page shows it and posts it back (whom the code pays read
    again: ``not_found`` if it was reset meanwhile)."""
    locale = locale_of(request)
    target = await service.describe_receive_code(services, payer_id=user_id, token=token)
    party = target.payee.party
    typed = form.text("amount")
    if target.fixed_amount is not None:
        shown = money(target.fixed_amount.minor, target.fixed_amount.currency)
    else:
        minor = amount_minor_or_none(typed)
        shown = typed if minor is None else money(minor)
    return spend_step_up.Movement(
        action=f"/r/{token}",
        restart=f"/r/{token}",
        summary=(
            (
                _t("Transfer to", locale),
                " ".join(p for p in (party.name_masked, party.phone_masked) if p),
            ),
            (_t("Amount", locale), shown),
        ),
        fields={"amount": typed, "memo": form.text("memo"), "form_key": form.text("form_key")},
    )


@router.post("/r/{token}")
async def pay(
    *,
    token: str,
    request: Request,
    form: PostedForm,
    user: WebUser,
    services: ServicesDep,
    caller: CallerDep,
) -> Response:
    """Pay the code with the PIN (the amount typed, or the code's own); a step-up form
    proves its code first (:mod:`ewallet.web.wallet.spend_step_up`)."""
    typed = _typed(form)
    step = spend_step_up.StepUpForm.of(form)
    caller = page_caller(request, caller)
    try:
        if step is not None:
            answer = await spend_step_up.before_moving(
                request,
                services,
                caller=caller,
                user=user,
                movement=await _movement(request, services, user.user_id, token, form),
                step=step,
            )
            if answer is not None:
                return answer
        amount = parse_amount(typed["amount"]) if typed["amount"] else None
        transfer = await service.pay_receive_code(
            services,
            actor_of(request, user),
            payer_id=user.user_id,
            token=token,
            amount=amount,
            memo=typed["memo"] or None,
            payment_password=form["payment_password"],
            caller=caller,
            device_id=user.device_id,
            challenge_id=None if step is None else step.challenge_id,
            request_key=form_request_key(user.user_id, form, PURPOSE),
        )
    except DomainError as error:
        if spend_step_up.answers(error, step):
            try:
                movement = await _movement(request, services, user.user_id, token, form)
            except DomainError as gone:
                return await _pay_page(
                    request, services, user.user_id, token, typed=typed, error=gone
                )
            return await spend_step_up.refused_page(
                request, services, movement, error, step, message=_refusal(request, error)
            )
        return await _pay_page(request, services, user.user_id, token, typed=typed, error=error)
    return see_other(f"/transfers/{transfer.id}")
