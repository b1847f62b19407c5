"""Console pages: customer service -- find a customer, the customer's view, freezing, and
the money look-up ("I was charged but the shop says it was not paid").

For support agents, risk officers and admins (``ACCOUNT_GUARD``), over the use cases of
``/v1/staff/customers``, ``/v1/staff/support/customers/...`` and ``/v1/staff/money-lookup``
(:mod:`ewallet.agent_context`): masking by role and the audit event of every look are
theirs, so each page that shows a customer -- the search results, the view, its panel
and every further page of transactions -- leaves its event. The search is posted, so a
phone number never sits in a URL, a browser history or a log line.

The panel beside a ticket or chat: ``GET /console/customers/{user_id}/panel`` answers an
HTML fragment (the ``customer_panel(ctx)`` macro of ``console/customers/panel.html``),
audited as a view; pages of other areas load it with htmx and link to the full view as the
fallback. A page that draws the panel itself gets its ``ctx`` from
:func:`customer_panel_context` and calls the macro:
``{% from "console/customers/panel.html" import customer_panel %}{{ customer_panel(ctx) }}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from ewallet.agent_context import service
from ewallet.agent_context.lookup import service as lookup
from ewallet.agent_context.views import CustomerContext
from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal
from ewallet.web.console.auth import Guard
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import htmx_or_see_other, locale_of, refusal

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

SEARCH: Final = "console/customers/search.html"
CUSTOMER: Final = "console/customers/customer.html"
PANEL: Final = "console/customers/panel_fragment.html"
TRANSACTIONS: Final = "console/customers/transactions.html"
TRANSACTION_ROWS: Final = "console/customers/transaction_rows.html"
LOOKUP: Final = "console/customers/lookup.html"
PAGE_SIZE: Final = 20
DONE: Final = {"frozen": N_("The account is frozen."), "unfrozen": N_("The account is unfrozen.")}

# What each record's code means, in words for staff (translated where shown).
KINDS: Final = {
    "order": N_("Order"),
    "payment": N_("Payment"),
    "refund": N_("Refund"),
    "payment_code_charge": N_("Payment-code charge"),
    "transfer": N_("Transfer"),
    "card_transfer": N_("Transfer to a bank card"),
    "topup": N_("Top-up"),
    "withdrawal": N_("Withdrawal"),
    "bill_payment": N_("Bill payment"),
    "counter_deposit": N_("Counter cash deposit"),
    "fee": N_("Fee"),
    "reversal": N_("Reversal"),
    "adjustment": N_("Adjustment"),
    "bill": N_("Bill payment"),
}
STATES: Final = {
    "active": N_("Active"),
    "frozen": N_("Frozen"),
    "closed": N_("Closed"),
    "awaiting_payment": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "refunded": N_("Refunded"),
    "partially_refunded": N_("Partly refunded"),
    "expired": N_("Expired"),
    "succeeded": N_("Succeeded"),
    "pending": N_("Pending"),
    "processing": N_("Processing"),
    "failed": N_("Failed"),
    "reversed": N_("Reversed"),
    "pending_verification": N_("Being verified"),
    "unbound": N_("Unbound"),
    "awaiting_approval": N_("Awaiting approval"),
    "completed": N_("Completed"),
    "rejected": N_("Rejected"),
    "under_review": N_("Under review"),
    "new": N_("New"),
    "open": N_("Open"),
    "pending_customer": N_("Waiting for the customer"),
    "resolved": N_("Resolved"),
    "waiting": N_("Waiting"),
    "requested": N_("Requested"),
    "bot": N_("With the bot"),
    "queued": N_("Queued"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
}
TONES: Final = {
    "active": "ok",
    "succeeded": "ok",
    "paid": "ok",
    "completed": "ok",
    "frozen": "bad",
    "failed": "bad",
    "rejected": "bad",
    "closed": "",
    "pending": "warn",
    "under_review": "warn",
    "processing": "warn",
    "awaiting_payment": "warn",
    "awaiting_approval": "warn",
    "pending_verification": "warn",
    "refunded": "info",
    "partially_refunded": "info",
}
VERDICTS: Final = {
    "not_paid": N_(
        "Not paid: no money left the customer's wallet for this order. If the customer was "
        "charged, it was for another order: look up the id from their transactions."
    ),
    "awaiting_customer_pin": N_(
        "The shop scanned the customer's payment code and the payment waits for their "
        "payment password in the app. Nothing has been taken yet."
    ),
    "expired_unpaid": N_(
        "The order expired unpaid: no money was taken. The shop has to make a new order."
    ),
    "closed_unpaid": N_("The shop closed the order before it was paid: no money was taken."),
    "payment_under_review": N_(
        "Risk control is reviewing the payment: the amount is held in the customer's wallet "
        "and the shop has not been paid. A risk officer approves it (the shop is paid) or "
        "rejects it (the money is released and the order closed)."
    ),
    "paid_merchant_notified": N_(
        "Paid: the money went to the shop, and the shop's system confirmed our notice. Give "
        "the shop the order number so they find it in their records."
    ),
    "paid_merchant_not_reached": N_(
        "Paid: the money went to the shop. Our notices to the shop's system have failed so "
        "far and are retried; the shop can check the order in its merchant system now."
    ),
    "paid_notice_queued": N_(
        "Paid: the money went to the shop. The notice to the shop's system is on its way."
    ),
    "paid_merchant_polls": N_(
        "Paid: the money went to the shop. This shop takes no automatic notices: it has to "
        "check the order in its merchant system."
    ),
    "partially_refunded": N_("Paid, and part of it was refunded to the customer's wallet."),
    "refunded": N_("Paid, then refunded in full to the customer's wallet."),
    "refund_completed": N_("Refunded: the money is back in the customer's wallet."),
    "transfer_completed": N_("Transferred: the money reached the recipient's wallet at once."),
    "transfer_under_review": N_(
        "Held for a risk review: the amount is held in the sender's wallet and has not reached "
        "the recipient. A risk officer decides in the review queue; the customer is told."
    ),
    "transfer_review_rejected": N_(
        "Not approved by the risk review: the money went back to the sender's wallet."
    ),
    "topup_awaiting_payment": N_(
        "Waiting for the customer to pay in Alipay or WeChat Pay: nothing has arrived yet."
    ),
    "topup_pending_at_bank": N_(
        "Waiting for the bank's answer. The customer should not top up again: the outcome "
        "is settled automatically and the money is never taken twice."
    ),
    "topup_credited": N_("Completed: the money is in the customer's wallet."),
    "topup_failed": N_(
        "Failed: nothing was added to the wallet, and any money the bank took is returned."
    ),
    "topup_closed": N_("Closed unpaid by the payment company: nothing was taken."),
    "withdrawal_processing": N_(
        "In progress: the money is held in the wallet while the bank pays it out."
    ),
    "withdrawal_pending_at_bank": N_(
        "Waiting for the bank's answer. The money stays held and is settled automatically: "
        "paid out, or returned to the wallet."
    ),
    "withdrawal_paid_out": N_(
        "Paid out to the customer's bank card. The bank may take until the next working day "
        "to show it."
    ),
    "withdrawal_failed_returned": N_(
        "Failed: the amount and the fee are back in the customer's wallet."
    ),
    "withdrawal_under_review": N_(
        "Held for a risk review: the amount and the fee are held in the wallet and the bank "
        "has not been asked. A risk officer decides in the review queue; the customer is told."
    ),
    "withdrawal_review_rejected": N_(
        "Not approved by the risk review: nothing was paid out; the amount and the fee are "
        "back in the customer's wallet."
    ),
    "bill_awaiting_biller": N_("Paid from the wallet; waiting for the biller to confirm."),
    "bill_confirmed": N_("The biller confirmed the payment."),
    "bill_failed_refunded": N_("The biller refused the payment: the money is back in the wallet."),
    "bill_under_review": N_(
        "Held for a risk review: the amount is held in the wallet and the biller has not been "
        "paid. A risk officer decides in the review queue; the customer is told."
    ),
    "bill_review_rejected": N_(
        "Not paid: the risk review did not approve it, or the bank declined the card that "
        "was to pay it. The biller was never paid; nothing was taken from the wallet or the "
        "card."
    ),
    "deposit_awaiting_approval": N_(
        "A large cash deposit waiting for a supervisor's approval: not in the wallet yet."
    ),
    "deposit_credited": N_("Cash deposit completed: the money is in the wallet."),
    "deposit_rejected": N_(
        "The deposit was rejected: nothing was added to the wallet and the cash is returned "
        "at the counter."
    ),
    "unknown": N_("See the details below."),
}
VERDICT_TONES: Final = {
    "not_paid": "info",
    "payment_under_review": "warn",
    "paid_merchant_notified": "ok",
    "paid_merchant_not_reached": "error",
    "paid_merchant_polls": "info",
    "topup_credited": "ok",
    "withdrawal_paid_out": "ok",
    "transfer_completed": "ok",
    "refund_completed": "ok",
    "deposit_credited": "ok",
    "bill_confirmed": "ok",
}
SECURITY_ACTIONS: Final = {
    "auth.signed_in": N_("Signed in"),
    "auth.sign_in_failed": N_("Sign-in failed"),
    "auth.login_locked": N_("Sign-in locked"),
    "auth.sign_in_refused_locked": N_("Sign-in refused: locked"),
    "auth.refresh_token_reused": N_("Stolen session suspected: all devices signed out"),
    "device.signed_out": N_("A device was signed out"),
    "account.frozen": N_("Account frozen"),
    "account.unfrozen": N_("Account unfrozen"),
    "user.registered": N_("Account opened"),
    "user.profile_updated": N_("Profile changed"),
    "user.login_password_changed": N_("Login password changed"),
    "login_password.reset": N_("Login password reset"),
    "payment_password.set": N_("Payment password set"),
    "payment_password.changed": N_("Payment password changed"),
    "payment_password.reset": N_("Payment password reset"),
    "payment_password.wrong": N_("Wrong payment password"),
    "payment_password.locked": N_("Payment password locked"),
    "password_reset.identity_mismatch": N_("Password reset: identity did not match"),
    "totp.enrolment_started": N_("Authenticator setup started"),
    "totp.enabled": N_("Authenticator turned on"),
    "totp.disable_failed": N_("Turning the authenticator off was refused"),
    "totp.disabled": N_("Authenticator turned off"),
    "totp.failed": N_("Wrong authenticator code"),
    "totp.locked": N_("Authenticator locked"),
    "identity.verified": N_("Real name verified"),
    "card.bound": N_("Card linked"),
    "card.unbound": N_("Card removed"),
    "card.binding_started": N_("Card linking started"),
    "anti_phishing_code.changed": N_("Anti-phishing code changed"),
    "password_free.enabled": N_("Small payments without PIN turned on"),
    "password_free.cap_changed": N_("Limit for small payments without PIN changed"),
    "password_free.disabled": N_("Small payments without PIN turned off"),
    "payment_code.declined": N_("Payment-code charge declined"),
}
TIERS: Final = {1: N_("Class I"), 2: N_("Class II"), 3: N_("Class III")}
CARD_TYPES: Final = {"debit": N_("Debit card"), "credit": N_("Credit card")}


def age_text(seconds: int) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``7 min``: how long something has waited (in the
    language of the page being rendered)."""
    minutes = seconds // 60
    if minutes < 60:
        return _t("%(n)s min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _t("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _t("%(d)s d %(h)s h") % {"d": hours // 24, "h": hours % 24}


def state_badge(code: str) -> Markup:
    """A state's badge in the language of the page being rendered: its words and tone
    (``<span class="badge badge-ok">Active</span>``); an unknown code as itself."""
    return _badge(TONES.get(code, ""), _t(STATES[code]) if code in STATES else code)


@lru_cache(maxsize=1024)
def _badge(tone: str, words: str) -> Markup:
    """Made once per tone and words (a view shows dozens, of a handful of states)."""
    return Markup('<span class="badge{}">{}</span>').format(f" badge-{tone}" if tone else "", words)


def kind_name(code: str) -> str:
    """A record kind's name in the language of the page being rendered (else the code)."""
    return _t(KINDS[code]) if code in KINDS else code


@dataclass(frozen=True, slots=True)
class Labels:
    """The code → words tables (English msgids, translated where shown) and formatters
    the templates of this module read as ``labels``. ``badge(code)`` and ``kind(code)``
    draw a state and a kind from Python: the view draws dozens per page, and a call costs
    a fraction of a template macro's."""

    kinds: Mapping[str, str] = field(default_factory=lambda: KINDS)
    states: Mapping[str, str] = field(default_factory=lambda: STATES)
    tones: Mapping[str, str] = field(default_factory=lambda: TONES)
    verdicts: Mapping[str, str] = field(default_factory=lambda: VERDICTS)
    verdict_tones: Mapping[str, str] = field(default_factory=lambda: VERDICT_TONES)
    security_actions: Mapping[str, str] = field(default_factory=lambda: SECURITY_ACTIONS)
    tiers: Mapping[int, str] = field(default_factory=lambda: TIERS)
    card_types: Mapping[str, str] = field(default_factory=lambda: CARD_TYPES)
    age: Callable[[int], str] = age_text
    badge: Callable[[str], Markup] = state_badge
    kind: Callable[[str], str] = kind_name


LABELS: Final = Labels()


@dataclass(frozen=True, slots=True)
class CustomerPanel:
    """What the ``customer_panel(ctx)`` macro shows: the customer as the staff member may
    see them, and the words for its codes."""

    customer: CustomerContext
    labels: Labels = LABELS


# Finding a customer.


@router.get("/customers")
async def search_page(request: Request, staff: Guard, services: ServicesDep) -> Response:
    return await console_page(request, services, SEARCH, query="", found=None, labels=LABELS)


@router.post("/customers")
async def search(
    request: Request, staff: Guard, form: ConsoleForm, services: ServicesDep
) -> Response:
    """One box: a phone number, a customer id, a ticket or a chat; the brief rows found."""
    query = form.text("q")
    try:
        found = await service.find_customers(services, staff, query=query)
    except DomainError as error:
        if error.code not in {"validation_error", "invalid_phone"}:
            raise
        message = _t(
            "Enter a mobile number, a customer id (usr_…), a ticket (TKT-…) or a chat id.",
            locale_of(request),
        )
        return await console_page(
            request,
            services,
            SEARCH,
            status_code=error.status,
            query=query,
            found=None,
            error=message,
            labels=LABELS,
        )
    return await console_page(request, services, SEARCH, query=query, found=found, labels=LABELS)


# The customer's view.


async def customer_panel_context(
    request: Request, services: Services, staff: StaffPrincipal, *, user_id: str
) -> CustomerPanel:
    """The panel of customer ``user_id`` as ``staff`` may see it, for a page that shows
    ``customer_panel(ctx)`` itself. The look is audited as a view; ``not_found`` (a
    ``NotFoundError``) for no such customer."""
    context = await service.customer_context(
        services, staff, user_id=user_id, locale=locale_of(request)
    )
    return CustomerPanel(context)


@router.get("/customers/{user_id}")
async def customer_page(
    user_id: str, request: Request, staff: Guard, services: ServicesDep, done: str = ""
) -> Response:
    panel = await customer_panel_context(request, services, staff, user_id=user_id)
    return await _customer(request, services, panel, done=DONE.get(done))


async def _customer(
    request: Request,
    services: Services,
    panel: CustomerPanel,
    *,
    status_code: int = 200,
    **names: Any,
) -> Response:
    names.setdefault("reason", "")
    names.setdefault("freeze_error", None)
    names.setdefault("done", None)
    customer = panel.customer
    more_url = None
    if customer.transactions_next_cursor is not None:
        more_url = _more_url(customer.user_id, customer.transactions_next_cursor)
    return await console_page(
        request,
        services,
        CUSTOMER,
        status_code=status_code,
        panel=panel,
        labels=LABELS,
        more_url=more_url,
        **names,
    )


@router.get("/customers/{user_id}/panel")
async def customer_panel(
    user_id: str, request: Request, staff: Guard, services: ServicesDep
) -> Response:
    """The panel beside a ticket or a chat, as an HTML fragment (audited as a view)."""
    panel = await customer_panel_context(request, services, staff, user_id=user_id)
    return await console_page(request, services, PANEL, panel=panel)


@router.post("/customers/{user_id}/freeze")
async def freeze(
    user_id: str, request: Request, staff: Guard, form: ConsoleForm, services: ServicesDep
) -> Response:
    return await _set_frozen(request, services, staff, form, user_id=user_id, frozen=True)


@router.post("/customers/{user_id}/unfreeze")
async def unfreeze(
    user_id: str, request: Request, staff: Guard, form: ConsoleForm, services: ServicesDep
) -> Response:
    return await _set_frozen(request, services, staff, form, user_id=user_id, frozen=False)


async def _set_frozen(
    request: Request,
    services: Services,
    staff: StaffPrincipal,
    form: ConsoleForm,
    *,
    user_id: str,
    frozen: bool,
) -> Response:
    """Freeze or unfreeze with the reason typed; a refusal shows beside the form, the
    reason kept."""
    reason = form.text("reason")
    try:
        await service.set_frozen(services, staff, user_id=user_id, frozen=frozen, reason=reason)
    except DomainError as error:
        if error.code == "not_found":
            raise
        message = refusal(request, error)
        if error.extra.get("field") == "reason":
            message = _t("Write why, in 1 to 200 characters.", locale_of(request))
        panel = await customer_panel_context(request, services, staff, user_id=user_id)
        return await _customer(
            request,
            services,
            panel,
            status_code=error.status,
            reason=reason,
            freeze_error=message,
        )
    done = "frozen" if frozen else "unfrozen"
    return htmx_or_see_other(request, f"/console/customers/{user_id}?done={done}")


@router.get("/customers/{user_id}/transactions")
async def more_transactions(
    user_id: str,
    request: Request,
    staff: Guard,
    services: ServicesDep,
    cursor: str | None = None,
) -> Response:
    """The next page of transactions: rows for htmx's "More", else a page of its own."""
    page = await service.customer_transactions(
        services, staff, user_id=user_id, limit=PAGE_SIZE, cursor=cursor or None
    )
    more_url = None if page.next_cursor is None else _more_url(user_id, page.next_cursor)
    template = TRANSACTION_ROWS if request.headers.get("hx-request") == "true" else TRANSACTIONS
    return await console_page(
        request,
        services,
        template,
        user_id=user_id,
        entries=page.items,
        more_url=more_url,
        labels=LABELS,
    )


def _more_url(user_id: str, cursor: str) -> str:
    return f"/console/customers/{user_id}/transactions?" + urlencode({"cursor": cursor})


# The money look-up.


@router.get("/lookup")
async def money_lookup(
    request: Request, staff: Guard, services: ServicesDep, q: str = ""
) -> Response:
    """One field: any id of ours or a shop's order number; each record found, with what to
    tell the customer first."""
    query = q.strip()
    if not query:
        return await console_page(request, services, LOOKUP, query="", found=None, labels=LABELS)
    try:
        found = await lookup.look_up_money(services, staff, query=query, locale=locale_of(request))
    except DomainError as error:
        if error.code not in {"not_found", "validation_error"}:
            raise
        message = _t(
            "Nothing matches. Check the id, or ask for the shop's order number.",
            locale_of(request),
        )
        if error.code == "validation_error":
            message = _t(
                "Enter an id or an order number of up to 64 characters.", locale_of(request)
            )
        return await console_page(
            request,
            services,
            LOOKUP,
            status_code=error.status,
            query=query,
            found=None,
            error=message,
            labels=LABELS,
        )
    return await console_page(request, services, LOOKUP, query=query, found=found, labels=LABELS)
