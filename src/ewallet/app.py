"""The ASGI application: ``create_app(settings)`` wires routers, middleware and error handlers.

Kept small on purpose: each feature brings its own router and is added here with one
``include_router`` line, so this file reads as the table of contents of the HTTP API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import ewallet
from ewallet.agent_context import endpoints as agent_context_endpoints
from ewallet.bills import endpoints as bill_endpoints
from ewallet.callbacks import endpoints as callback_endpoints
from ewallet.cards import binding_endpoints
from ewallet.cards import endpoints as cards_endpoints
from ewallet.chat import endpoints as chat_endpoints
from ewallet.chat import sockets as chat_sockets
from ewallet.config import Settings, load_settings
from ewallet.counter import endpoints as counter_endpoints
from ewallet.funding import callbacks as funding_callbacks
from ewallet.funding import endpoints as funding_endpoints
from ewallet.funding import withdrawal_endpoints
from ewallet.funding.jobs import embedded_settling
from ewallet.help import endpoints as help_endpoints
from ewallet.help import staff_endpoints as help_staff_endpoints
from ewallet.history import endpoints as history_endpoints
from ewallet.http import health
from ewallet.http.deps import app_clock, app_settings
from ewallet.http.docs import install_docs
from ewallet.http.idempotency import install_idempotency, set_scope_resolver
from ewallet.http.json_body import StrictJsonMiddleware
from ewallet.http.middleware import RequestContextMiddleware
from ewallet.http.problem import install_error_handlers
from ewallet.identity import endpoints as identity_endpoints
from ewallet.identity import endpoints_me as identity_me_endpoints
from ewallet.identity import security_endpoints
from ewallet.identity.deps import idempotency_scope
from ewallet.identity.runtime import outbox_wakeup
from ewallet.integrations.bank.wiring import (
    SANDBOX_BANK_PATH,
    bank_gateway_running,
    embedded_sandbox_bank,
)
from ewallet.integrations.biller.wiring import biller_gateway_running, mount_biller_sandbox
from ewallet.integrations.psp import PspChannels
from ewallet.kit.clock import Clock, SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.logging import configure_logging
from ewallet.kit.ratelimit import RateLimiter
from ewallet.ledger import Ledger
from ewallet.ledger.upkeep import upkeep_in_background
from ewallet.merchants import endpoints as merchant_staff_endpoints
from ewallet.ops import endpoints as ops_endpoints
from ewallet.ops.enforcement import install_maintenance
from ewallet.payments import checkout, password_free_endpoints, payment_code_endpoints
from ewallet.payments import endpoints as payment_endpoints
from ewallet.payments import merchant_endpoints as merchant_api_endpoints
from ewallet.reconciliation import endpoints as reconciliation_endpoints
from ewallet.sandbox.psp import mount_psp_sandboxes
from ewallet.security.context import SecurityContext
from ewallet.services import Services
from ewallet.staff import endpoints as staff_endpoints
from ewallet.support import endpoints as support_endpoints
from ewallet.support import staff_endpoints as support_staff_endpoints
from ewallet.transfers import endpoints as transfer_endpoints
from ewallet.wallet import endpoints as wallet_endpoints
from ewallet.worker.embedded import embedded_outbox


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app_settings(app)
    # First: in production, missing PSP keys stop start-up before anything is opened.
    app.state.psp = PspChannels.from_settings(
        settings, clock=app_clock(app), sandboxes=app.state.psp_sandboxes
    )
    engine = make_engine(
        settings.database_url, pool_size=settings.db_pool_size, echo=settings.db_echo
    )
    app.state.engine = engine
    # Standalone ledger commands from concurrent requests share commits (group commit).
    ledger = Ledger(
        engine,
        clock=app_clock(app),
        group_commit=True,
        max_batch=settings.ledger_batch_max,
        flushers=settings.ledger_flushers,
    )
    await ledger.start()
    app.state.ledger = ledger
    app.state.rate_limiter = RateLimiter.from_settings(settings, clock=app_clock(app))
    try:
        async with (
            embedded_outbox(app, settings, engine),
            bank_gateway_running(app) as gateway,
            biller_gateway_running(app, settings) as biller,
            embedded_settling(app, engine, gateway, ledger),
            upkeep_in_background(ledger, interval=settings.ledger_upkeep_interval_seconds),
        ):
            app.state.services = Services(
                settings=settings,
                clock=app_clock(app),
                engine=engine,
                ledger=ledger,
                security=app.state.security,
                limiter=app.state.rate_limiter,
                bank=gateway,
                biller=biller,
                psp=app.state.psp,
                wake_outbox=outbox_wakeup(app),
            )
            yield
    finally:
        await app.state.psp.aclose()  # pending sandbox PSP notifications
        await app.state.rate_limiter.aclose()
        await ledger.aclose()
        await engine.dispose()


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """The wallet's HTTP API for ``settings``; ``clock`` lets tests move time."""
    app = FastAPI(
        title="ewallet",
        version=ewallet.__version__,
        summary="Electronic wallet: accounts, cards, top-ups, payments, transfers, help.",
        docs_url=None,  # served offline by ewallet.http.docs instead of from a CDN
        redoc_url=None,
        lifespan=_lifespan,
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
        StrictJsonMiddleware, exempt_prefixes=(funding_callbacks.router.prefix + "/",)
    )
    # Added last, so it is the outermost of ours: every answer carries the request id.
    app.add_middleware(RequestContextMiddleware)
    # Outside everything: forwarded client addresses and schemes are believed only from
    # EWALLET_TRUSTED_PROXIES (docs/security.md); `ewallet serve` turns uvicorn's own off.
    if proxies := settings.trusted_proxy_networks():
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=[str(net) for net in proxies])
    install_docs(app)
    # The in-process sandbox bank when EWALLET_BANK_URL is unset (docs/sandbox.md).
    if (sandbox_bank := embedded_sandbox_bank(app, settings)) is not None:
        app.mount(SANDBOX_BANK_PATH, sandbox_bank)
    # In-process sandbox PSPs when EWALLET_PSP_*_URL are unset (docs/psp.md).
    app.state.psp_sandboxes = mount_psp_sandboxes(app, settings, clock=app.state.clock)

    app.include_router(health.router)
    # Feature routers follow here, one include_router line each, under the /v1 prefix.
    # Identity routers below.
    app.include_router(identity_endpoints.router)
    app.include_router(identity_me_endpoints.router)
    # Account-security routers below.
    app.include_router(security_endpoints.router)
    # Staff and operations routers below.
    app.include_router(staff_endpoints.router)
    app.include_router(ops_endpoints.router)
    # Wallet, cards and funding routers below.
    app.include_router(funding_endpoints.router)
    app.include_router(funding_callbacks.router)
    app.include_router(binding_endpoints.router)
    app.include_router(wallet_endpoints.router)
    app.include_router(cards_endpoints.router)
    app.include_router(withdrawal_endpoints.router)
    # Counter-deposit routers below.
    app.include_router(counter_endpoints.router)
    # Reconciliation routers below.
    app.include_router(reconciliation_endpoints.router)
    # Merchant, order and payment routers below.
    app.include_router(merchant_staff_endpoints.router)
    app.include_router(merchant_api_endpoints.router)
    app.include_router(payment_endpoints.router)
    app.include_router(checkout.router)
    # Transfer, limit and history routers below.
    app.include_router(transfer_endpoints.router)
    app.include_router(history_endpoints.router)
    # Payment-code and password-free payment routers below.
    app.include_router(payment_code_endpoints.user_router)
    app.include_router(payment_code_endpoints.merchant_router)
    app.include_router(password_free_endpoints.router)
    # Bill routers below.
    mount_biller_sandbox(app, settings)  # in-process sandbox biller (docs/bills.md)
    app.include_router(bill_endpoints.router)
    # Support ticket and email routers below.
    app.include_router(support_endpoints.router)
    app.include_router(support_staff_endpoints.router)
    # Online chat, call-back and agent-context routers below.
    app.include_router(chat_sockets.router)
    app.include_router(chat_endpoints.router)
    app.include_router(callback_endpoints.router)
    app.include_router(agent_context_endpoints.router)
    # Help and support routers below.
    app.include_router(help_endpoints.router)
    app.include_router(help_staff_endpoints.router)
    return app


def app_from_env() -> FastAPI:
    """Zero-argument factory for ``uvicorn --factory`` (each worker process calls it)."""
    settings = load_settings()
    configure_logging(settings)
    return create_app(settings)
