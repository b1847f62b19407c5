"""Pages of the wallet: paying bills and topping up phones (docs/bills.md).

``/bills`` lists the biller directory by category (electricity, water, gas, mobile top-up,
broadband); ``/bills/{biller_id}`` asks for the account number with the biller's own hint;
``POST /bills/{biller_id}/lookup`` asks the biller for the bill (amount due, the holder's
masked name, period, due date -- ``bills.service.lookup_bill``, which moves nothing) and
shows it with the amount to pay and the payment password; ``POST /bills/{biller_id}/pay``
pays (``bills.service.pay_bill``: its refusals in its order, the PIN only after the biller
knows the account) and sends the browser to the payment's page ``/bills/payments/{id}``:
the receipt once the biller confirmed (a PDF too), its progress while it has not, or the
refusal and the money back. Another user's payment is ``not_found``.

The bill as looked up rides along in the pay form's hidden fields so a refusal can show it
again (display only: the service looks the account up again before any money moves). The
form's ``form_key`` makes a second post of the same form find the first one's payment.

When the user has a bound card the pay form offers where the money comes from
(docs/bills.md, "Paying with a card"): the balance, the balance and then a card for the
rest, or all of it with a card (radio buttons, no script needed; preselected: the balance
when it covers the amount due, else the balance and the first card). A payment waiting for
the bank's answer shows "waiting for the bank"; a card the bank declined is the form again
with the refusal.

A bill payment risk control challenges (``step_up_required``) goes through the step-up page
(:mod:`ewallet.web.wallet.spend_step_up`): the texted code (or the authenticator's) and the
PIN again, posted back to ``/bills/{biller_id}/pay`` with the challenge id, which pays once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.bills.card_funding.service import funding_options
from ewallet.bills.receipts import receipt_pdf
from ewallet.bills.service import (
    get_bill_payment_detail,
    get_biller,
    get_receipt,
    list_billers,
    lookup_bill_to_pay,
    pay_bill,
)
from ewallet.bills.views import BillLookup, FundingOptions, mask_account
from ewallet.http.deps import ServicesDep
from ewallet.identity.runtime import CallerDep
from ewallet.integrations.biller.directory import CATEGORIES, BillerSpec
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError
from ewallet.kit.i18n import EN, Locale
from ewallet.kit.money import Money
from ewallet.models.card_payments import FundingSource
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import Form, PostedForm, form_request_key
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import PAGE_HEADERS, locale_of, page, see_other
from ewallet.web.kit.refusals import money_refusal
from ewallet.web.kit.routing import WebRoute
from ewallet.web.kit.templates import money
from ewallet.web.wallet import spend_step_up
from ewallet.web.wallet.register import page_caller

router = APIRouter(route_class=WebRoute, include_in_schema=False)

DIRECTORY = "wallet/bills/directory.html"
ACCOUNT = "wallet/bills/account.html"
PAY = "wallet/bills/pay.html"
PAYMENT = "wallet/bills/payment.html"
PURPOSE = "bill"
# The fields of the pay form that show the bill as it was looked up (display only).
BILL_FIELDS = (
    "biller_name",
    "category",
    "account_no",
    "account_masked",
    "holder",
    "period",
    "due_date",
    "amount_due",
    "allowed",
)


def _name(biller: BillerSpec, locale: Locale) -> str:
    return biller.name_en if locale == EN else biller.name_zh


def _hint(biller: BillerSpec, locale: Locale) -> str:
    return biller.account_hint_en if locale == EN else biller.account_hint_zh


def _bill_refusal(request: Request, error: DomainError) -> str:
    locale = locale_of(request)
    if error.code == "bill_account_invalid":
        hint = error.extra.get("hint")
        if isinstance(hint, dict) and hint.get(locale):
            text = _t("This number does not fit this biller: enter %(hint)s.", locale)
            return text % {"hint": hint[locale]}
        return _t("This number does not fit this biller.", locale)
    if error.code == "bill_account_not_found":
        return _t("The biller has no account with this number. Check it on your bill.", locale)
    return money_refusal(request, error)


def _decimal(minor: int) -> str:
    return Money(minor, "CNY").to_decimal_string()


def _bill_of(lookup: BillLookup, locale: Locale) -> dict[str, str]:
    """The looked-up bill as the pay form's hidden fields carry it."""
    biller = lookup.biller
    return {
        "biller_name": _name(biller, locale),
        "category": biller.category,
        "account_no": lookup.account_no,
        "account_masked": mask_account(lookup.account_no),
        "holder": lookup.holder_name_masked,
        "period": lookup.period,
        "due_date": lookup.due_date.isoformat(),
        "amount_due": lookup.amount_due.to_decimal_string(),
        "allowed": ",".join(_decimal(minor) for minor in biller.fixed_amounts or ()),
    }


def _pay_context(
    bill: dict[str, str], amount: str, options: FundingOptions, source: str
) -> dict[str, Any]:
    allowed = [a for a in bill["allowed"].split(",") if a]
    due = bill["amount_due"] or "0.00"
    return {
        "bill": bill,
        "allowed": allowed,
        "amount_due_minor": _minor(due) or 0,
        "amount": amount,
        "options": options,
        "source": source,
    }


def _funding(form: Form) -> tuple[FundingSource, str | None]:
    """The source the payer picked: ``balance`` (or nothing: no card bound), or
    ``card:<id>`` / ``balance_and_card:<id>``."""
    source, _, card_id = form.text("funding").partition(":")
    if source in (FundingSource.CARD, FundingSource.BALANCE_AND_CARD) and card_id:
        return FundingSource(source), card_id[:32]
    return FundingSource.BALANCE, None


def _minor(text: str) -> int | None:
    try:
        return parse_amount(text).minor
    except DomainError:
        return None


@router.get("/bills")
async def directory(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    category: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    chosen = category if category in CATEGORIES else None
    billers = await list_billers(services, category=chosen)
    groups = [
        (name, [b for b in billers if b.category == name])
        for name in CATEGORIES
        if any(b.category == name for b in billers)
    ]
    return await page(
        request, services, DIRECTORY, groups=groups, categories=CATEGORIES, chosen=chosen
    )


@router.get("/bills/payments/{payment_id}")
async def payment_page(
    request: Request, payment_id: str, user: WebUser, services: ServicesDep
) -> Response:
    detail = await get_bill_payment_detail(services, user.user_id, payment_id=payment_id)
    return await page(
        request,
        services,
        PAYMENT,
        payment=detail.payment,
        biller=detail.biller,
        biller_name=_name(detail.biller, locale_of(request)),
        receipt=detail.receipt,
    )


@router.get("/bills/payments/{payment_id}/receipt.pdf")
async def receipt_download(payment_id: str, user: WebUser, services: ServicesDep) -> Response:
    receipt = await get_receipt(services, user.user_id, payment_id=payment_id)
    return Response(
        receipt_pdf(receipt),
        media_type="application/pdf",
        headers={
            **PAGE_HEADERS,
            "Content-Disposition": f'attachment; filename="{receipt.receipt_no}.pdf"',
        },
    )


@router.get("/bills/{biller_id}")
async def account_page(
    request: Request, biller_id: str, user: WebUser, services: ServicesDep
) -> Response:
    biller = await get_biller(services, biller_id)
    return await _account_form(request, services, biller, account_no="")


async def _account_form(
    request: Request,
    services: ServicesDep,
    biller: BillerSpec | None,
    *,
    account_no: str,
    biller_id: str = "",
    biller_name: str = "",
    hint: str = "",
    category: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    locale = locale_of(request)
    return await page(
        request,
        services,
        ACCOUNT,
        status_code=status_code,
        error=error,
        biller_id=biller.id if biller else biller_id,
        biller_name=_name(biller, locale) if biller else biller_name,
        hint=_hint(biller, locale) if biller else hint,
        category=biller.category if biller else category,
        account_no=account_no,
    )


@router.get("/bills/{biller_id}/lookup")
@router.get("/bills/{biller_id}/pay")
async def start_again(biller_id: str, user: WebUser) -> Response:
    """The look-up and the payment answer posts: opened by address, they start over."""
    return see_other(f"/bills/{biller_id}")


@router.post("/bills/{biller_id}/lookup")
async def lookup(
    request: Request, biller_id: str, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    account_no = form.text("account_no")
    try:
        payable = await lookup_bill_to_pay(
            services, user.user_id, biller_id=biller_id, account_no=account_no
        )
    except DomainError as error:
        if error.code == "not_found":
            raise  # no such biller: the 404 page
        return await _account_form(
            request,
            services,
            None,
            account_no=account_no,
            biller_id=biller_id,
            biller_name=form.text("biller_name"),
            hint=form.text("hint"),
            category=form.text("category"),
            error=_bill_refusal(request, error),
            status_code=error.status,
        )
    bill = payable.bill
    fields = _bill_of(bill, locale_of(request))
    amount = fields["amount_due"] if bill.amount_due.minor > 0 and not fields["allowed"] else ""
    source = payable.default_source(bill.amount_due)
    context = _pay_context(fields, amount, payable.options, source)
    return await page(request, services, PAY, biller_id=biller_id, **context)


def _bill_from(form: Form) -> dict[str, str]:
    return {name: form.text(name) for name in BILL_FIELDS}


async def _movement(
    request: Request, services: ServicesDep, biller_id: str, form: Form
) -> spend_step_up.Movement:
    """The bill payment as its step-up page shows it and posts it back: the biller read
    again from the directory, the account number and the amount as they are paid."""
    locale = locale_of(request)
    biller = await get_biller(services, biller_id)
    if biller.category == "mobile_topup":
        account_label = _t("Topped-up number", locale)
    else:
        account_label = _t("Customer number", locale)
    amount_text = form.text("amount")
    minor = _minor(amount_text)
    return spend_step_up.Movement(
        action=f"/bills/{biller_id}/pay",
        restart=f"/bills/{biller_id}",
        summary=(
            (_t("Pay to", locale), _name(biller, locale)),
            (account_label, mask_account(form.text("account_no"))),
            (_t("Amount", locale), amount_text if minor is None else money(minor)),
        ),
        fields={name: form.text(name) for name in (*BILL_FIELDS, "amount", "form_key", "funding")},
    )


@router.post("/bills/{biller_id}/pay")
async def pay(
    *,
    request: Request,
    biller_id: str,
    form: PostedForm,
    user: WebUser,
    services: ServicesDep,
    caller: CallerDep,
) -> Response:
    bill = _bill_from(form)
    amount_text = form.text("amount")
    source, card_id = _funding(form)
    step = spend_step_up.StepUpForm.of(form)
    caller = page_caller(request, caller)
    if step is not None:
        answer = await spend_step_up.before_moving(
            request,
            services,
            caller=caller,
            user=user,
            movement=await _movement(request, services, biller_id, form),
            step=step,
        )
        if answer is not None:
            return answer
    try:
        payment = await pay_bill(
            services,
            actor_of(request, user),
            user_id=user.user_id,
            biller_id=biller_id,
            account_no=bill["account_no"],
            amount=parse_amount(amount_text),
            payment_password=form["payment_password"],
            caller=caller,
            request_key=form_request_key(user.user_id, form, PURPOSE),
            device_id=user.device_id,
            challenge_id=None if step is None else step.challenge_id,
            funding_source=source,
            card_id=card_id,
        )
    except DomainError as error:
        if spend_step_up.answers(error, step):
            movement = await _movement(request, services, biller_id, form)
            message = _bill_refusal(request, error)
            return await spend_step_up.refused_page(
                request, services, movement, error, step, message=message
            )
        declined = error.extra.get("bill_payment_id")
        if error.code == "biller_declined" and isinstance(declined, str):
            return see_other(f"/bills/payments/{declined}")  # refused; the money is back
        # The form again, with the choices as they are now (a read, moving nothing).
        options = await funding_options(services, user.user_id, currency="CNY")
        return await page(
            request,
            services,
            PAY,
            status_code=error.status,
            error=_bill_refusal(request, error),
            biller_id=biller_id,
            **_pay_context(bill, amount_text, options, form.text("funding") or "balance"),
        )
    return see_other(f"/bills/payments/{payment.id}")
