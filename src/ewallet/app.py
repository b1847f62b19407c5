"""The ASGI application: ``create_app(settings)`` wires routers, middleware and error handlers.

Kept small on purpose: each feature brings its own router and is added here with one
``include_router`` line, so this file reads as the table of contents of the HTTP API.
"""

from __future__ import annotations

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import ewallet
from ewallet.agent_context import endpoints as agent_context_endpoints
from ewallet.agent_context.lookup import endpoints as lookup_endpoints
from ewallet.bills import endpoints as bill_endpoints
from ewallet.bootstrap.lifespan import app_lifespan, mount_sandboxes
from ewallet.callbacks import endpoints as callback_endpoints
from ewallet.cards import endpoints as cards_endpoints
from ewallet.cards.binding import endpoints as binding_endpoints
from ewallet.chat import endpoints as chat_endpoints
from ewallet.chat.sockets import endpoints as chat_sockets
from ewallet.config import Settings, load_settings
from ewallet.counter import endpoints as counter_endpoints
from ewallet.funding.topups import endpoints as topup_endpoints
from ewallet.funding.withdrawals import endpoints as withdrawal_endpoints
from ewallet.help import endpoints as help_endpoints
from ewallet.history import endpoints as history_endpoints
from ewallet.http import health
from ewallet.http.idempotency import install_idempotency, set_scope_resolver
from ewallet.http.json_body import StrictJsonMiddleware
from ewallet.http.middleware import RequestContextMiddleware
from ewallet.http.problem import install_error_handlers
from ewallet.identity import endpoints as identity_endpoints
from ewallet.identity.deps import idempotency_scope
from ewallet.identity.realname import screening as realname_screening
from ewallet.identity.signin import checks as signin_checks
from ewallet.kit.clock import Clock, SystemClock
from ewallet.kit.logging import configure_logging
from ewallet.merchants import endpoints as merchant_staff_endpoints
from ewallet.merchants.account import endpoints as merchant_account_endpoints
from ewallet.merchants.people import endpoints as merchant_people_endpoints
from ewallet.merchants.stores import endpoints as store_endpoints
from ewallet.money_requests import endpoints as money_request_endpoints
from ewallet.money_requests.receive_codes import endpoints as receive_code_endpoints
from ewallet.openapi.docs import install_docs
from ewallet.ops import endpoints as ops_endpoints
from ewallet.ops.enforcement import install_maintenance
from ewallet.ops.health import endpoints as ops_health_endpoints
from ewallet.payments import endpoints as payment_endpoints
from ewallet.payments.checkout import endpoints as checkout_endpoints
from ewallet.payments.orders import endpoints as order_endpoints
from ewallet.payments.password_free import endpoints as password_free_endpoints
from ewallet.payments.payment_codes import endpoints as payment_code_endpoints
from ewallet.payments.payment_links import endpoints as payment_link_endpoints
from ewallet.payments.refunds import endpoints as refund_endpoints
from ewallet.payments.static_qr import endpoints as static_qr_endpoints
from ewallet.payments.webhooks import endpoints as webhook_endpoints
from ewallet.reconciliation import endpoints as reconciliation_endpoints
from ewallet.reviews import endpoints as review_endpoints
from ewallet.risk.aml import endpoints as aml_endpoints
from ewallet.risk.decisions import check_sign_in
from ewallet.risk.rules import endpoints as risk_rule_endpoints
from ewallet.risk.watchlist import endpoints as watchlist_endpoints
from ewallet.risk.watchlist.service import screen_real_name
from ewallet.security.context import SecurityContext
from ewallet.settlement import endpoints as settlement_endpoints
from ewallet.staff import endpoints as staff_endpoints
from ewallet.staff.phone_changes import endpoints as phone_change_staff_endpoints
from ewallet.support import endpoints as support_endpoints
from ewallet.support.staff import endpoints as support_staff_endpoints
from ewallet.transfers import endpoints as transfer_endpoints
from ewallet.wallet import endpoints as wallet_endpoints
from ewallet.web.mount import install_web


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:  # noqa: PLR0915 -- the table of contents: one line per router
    """The wallet's HTTP API for ``settings``; ``clock`` lets tests move time."""
    app = FastAPI(
        title="ewallet",
        version=ewallet.__version__,
        summary="Electronic wallet: accounts, cards, top-ups, payments, transfers, help.",
        docs_url=None,  # served offline by ewallet.openapi.docs instead of from a CDN
        redoc_url=None,
        lifespan=app_lifespan,  # services and background work: ewallet.bootstrap
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.security = SecurityContext.from_settings(settings)

    install_error_handlers(app)
    install_idempotency(app)
    set_scope_resolver(app, idempotency_scope)
    install_maintenance(app)  # outside idempotency: a refused write claims no key
    # Duplicate keys and broken Unicode in any JSON body: 422 before anything runs; the
    # PSPs' notifications are exempt (they verify their signature over the raw bytes).
    app.add_middleware(
        StrictJsonMiddleware, exempt_prefixes=(topup_endpoints.notify_router.prefix + "/",)
    )
    # Added last, so it is the outermost of ours: every answer carries the request id.
    app.add_middleware(RequestContextMiddleware)
    # Outside everything: forwarded client addresses and schemes are believed only from
    # EWALLET_TRUSTED_PROXIES (docs/security.md); `ewallet serve` turns uvicorn's own off.
    if proxies := settings.trusted_proxy_networks():
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=[str(net) for net in proxies])
    install_docs(app)
    # In development, the sandbox bank, PSPs and biller where their URLs are unset.
    mount_sandboxes(app, settings)

    app.include_router(health.router)
    # The web front ends (pages at /, static files at /static) next: a page is matched
    # before the API's routes, none of which it can shadow (ewallet.web.mount).
    install_web(app)
    # Feature routers follow here, one include_router line each, under the /v1 prefix.
    # Identity and account-security routes (one router composing identity's sub-features).
    app.include_router(identity_endpoints.router)
    # Staff and operations routers below.
    app.include_router(staff_endpoints.router)
    app.include_router(phone_change_staff_endpoints.router)
    app.include_router(ops_endpoints.router)
    app.include_router(ops_health_endpoints.router)
    # Wallet, cards and funding routers below.
    app.include_router(topup_endpoints.router)
    app.include_router(topup_endpoints.notify_router)
    app.include_router(binding_endpoints.router)
    app.include_router(wallet_endpoints.router)
    app.include_router(cards_endpoints.router)
    app.include_router(withdrawal_endpoints.router)
    # Counter-deposit routers below.
    app.include_router(counter_endpoints.router)
    # Reconciliation routers below.
    app.include_router(reconciliation_endpoints.router)
    app.include_router(aml_endpoints.router)
    # Merchant, order and payment routers below.
    app.include_router(merchant_staff_endpoints.router)
    app.include_router(merchant_account_endpoints.router)
    app.include_router(merchant_people_endpoints.router)
    app.include_router(order_endpoints.router)
    app.include_router(refund_endpoints.router)
    app.include_router(webhook_endpoints.router)
    app.include_router(payment_endpoints.router)
    app.include_router(store_endpoints.router)
    app.include_router(static_qr_endpoints.merchant_router)
    app.include_router(static_qr_endpoints.user_router)
    app.include_router(checkout_endpoints.router)
    app.include_router(payment_link_endpoints.router)
    app.include_router(payment_link_endpoints.page_router)
    # Transfer, limit and history routers below.
    app.include_router(transfer_endpoints.router)
    app.include_router(money_request_endpoints.router)
    app.include_router(receive_code_endpoints.router)
    app.include_router(history_endpoints.router)
    # Payment-code and password-free payment routers below.
    app.include_router(payment_code_endpoints.user_router)
    app.include_router(payment_code_endpoints.merchant_router)
    app.include_router(password_free_endpoints.router)
    # Bill routers below.
    app.include_router(bill_endpoints.router)
    # Support ticket and email routers below.
    app.include_router(support_endpoints.router)
    app.include_router(support_staff_endpoints.router)
    # Online chat, call-back and agent-context routers below.
    app.include_router(chat_sockets.router)
    app.include_router(chat_endpoints.router)
    app.include_router(callback_endpoints.router)
    app.include_router(agent_context_endpoints.router)
    app.include_router(lookup_endpoints.router)
    # Help and support routers below.
    app.include_router(help_endpoints.router)
    app.include_router(help_endpoints.staff_router)
    app.include_router(settlement_endpoints.router)
    app.include_router(settlement_endpoints.staff_router)
    app.include_router(watchlist_endpoints.router)
    realname_screening.register("watchlist", screen_real_name)  # verified names meet the list
    signin_checks.register("risk", check_sign_in)  # the risk decision on every sign-in
    app.include_router(risk_rule_endpoints.router)
    app.include_router(review_endpoints.router)
    return app


def app_from_env() -> FastAPI:
    """Zero-argument factory for ``uvicorn --factory`` (each worker process calls it)."""
    settings = load_settings()
    configure_logging(settings)
    app = create_app(settings)
    app.state.freeze_gc = True  # a serving process: start-up objects leave the collector
    return app
