"""``create_bank_app(config)``: the sandbox bank as its own ASGI app.

Run alone (``ewallet sandbox bank``) or mounted in the wallet at ``/sandbox/bank`` in
development; either way the wallet reaches it over HTTP with its real adapter. Every call
that binds a card or moves money needs the merchant key in ``X-Bank-Key``; the test-card
list and the sent texts are open, being the sandbox's help pages. Refusals answer
``{"code", "detail", ...}`` with a status; endpoints are one call into the bank each.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from ewallet.kit.clock import Clock
from ewallet.kit.phone import InvalidPhoneError, parse_phone
from ewallet.sandbox.bank import binding, movements, payouts
from ewallet.sandbox.bank.bank import SandboxBank, SandboxBankConfig
from ewallet.sandbox.bank.schemas import (
    BankRefusedError,
    BindConfirmed,
    BindConfirmRequest,
    BindRequest,
    BindStarted,
    CardView,
    MovementAnswer,
    MovementRequest,
    NameCheckAnswer,
    NameCheckRequest,
    OperationAnswer,
    PayoutRequest,
    SentSms,
    UnbindRequest,
    Unbound,
)
from ewallet.sandbox.bank.sms import BankSmsSink

KEY_HEADER: Final = "X-Bank-Key"


def create_bank_app(
    config: SandboxBankConfig, *, clock: Clock | None = None, sms_sink: BankSmsSink | None = None
) -> FastAPI:
    """The sandbox bank; its lifespan prepares the database when it runs on its own."""
    bank = SandboxBank(config, clock=clock, sms_sink=sms_sink)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await bank.start()
        try:
            yield
        finally:
            await bank.aclose()

    app = FastAPI(
        title="ewallet sandbox bank",
        summary="A card-payment gateway test double: binding, debits, credits, payouts.",
        docs_url=None,  # no CDN assets; /openapi.json describes the API
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.bank = bank
    app.add_exception_handler(BankRefusedError, _refusal_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.include_router(_open)
    app.include_router(_keyed)
    return app


def sandbox_bank_of(app: FastAPI) -> SandboxBank:
    """The bank behind a bank app (the wallet closes it; tests read its books)."""
    bank: SandboxBank = app.state.bank
    return bank


def _bank(request: Request) -> SandboxBank:
    return sandbox_bank_of(request.app)


Bank = Annotated[SandboxBank, Depends(_bank)]


def _require_key(bank: Bank, key: Annotated[str | None, Header(alias=KEY_HEADER)] = None) -> None:
    expected = bank.config.merchant_key.encode()
    if key is None or not hmac.compare_digest(key.encode(), expected):
        raise BankRefusedError("unauthorized", 401, f"a valid {KEY_HEADER} header is required")


_open = APIRouter()
_keyed = APIRouter(dependencies=[Depends(_require_key)])


@_open.get("/")
async def about() -> dict[str, str]:
    return {"bank": "ewallet sandbox bank", "test_cards": "/test-cards", "sms": "/sms"}


@_open.get("/test-cards")
async def test_cards(bank: Bank) -> list[CardView]:
    """The test cards, their holders' details, live balances and behaviours."""
    return await bank.card_views()


@_open.get("/sms")
async def sent_sms(
    bank: Bank,
    phone: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[SentSms]:
    """Texts the bank sent (binding codes), oldest first; ``phone`` in any accepted format."""
    recipient = None
    if phone is not None:
        try:
            recipient = parse_phone(phone)
        except InvalidPhoneError as error:
            raise BankRefusedError(
                "validation_error", 422, "phone is not a mobile number"
            ) from error
    return await bank.sent_sms(phone=recipient, limit=limit)


@_keyed.post("/bind")
async def start_binding(bank: Bank, body: BindRequest) -> BindStarted:
    return await binding.start_binding(bank, body)


@_keyed.post("/bind/confirm")
async def confirm_binding(bank: Bank, body: BindConfirmRequest) -> BindConfirmed:
    return await binding.confirm_binding(bank, body)


@_keyed.post("/unbind")
async def unbind(bank: Bank, body: UnbindRequest) -> Unbound:
    return await binding.unbind(bank, body)


@_keyed.post("/debits", response_model=MovementAnswer)
async def debit(bank: Bank, body: MovementRequest) -> Response:
    """Pull money from the card's account to the merchant (a wallet top-up)."""
    return _answer(await movements.move(bank, "debit", body))


@_keyed.post("/credits", response_model=MovementAnswer)
async def credit(bank: Bank, body: MovementRequest) -> Response:
    """Push money to the card's account (a wallet withdrawal)."""
    return _answer(await movements.move(bank, "credit", body))


@_keyed.post("/payouts", response_model=MovementAnswer)
async def payout(bank: Bank, body: PayoutRequest) -> Response:
    """Pay an account by its number, if the holder's name matches (a merchant settlement)."""
    return _answer(await payouts.pay_out(bank, body))


@_keyed.post("/name-checks", response_model=NameCheckAnswer)
async def name_check(bank: Bank, body: NameCheckRequest) -> NameCheckAnswer:
    """Whether a name is an account's holder, as a payout would check it; pays nothing."""
    return await payouts.check_name(bank, body)


@_keyed.get("/operations/{request_id:path}")
async def operation(bank: Bank, request_id: str) -> OperationAnswer:
    return await movements.operation_status(bank, request_id)


@_keyed.get("/settlement/{day}", response_class=PlainTextResponse)
async def settlement(bank: Bank, day: date) -> PlainTextResponse:
    """The day's succeeded operations as CSV (``request_id,type,amount_fen,...``)."""
    return PlainTextResponse(
        await movements.settlement_csv(bank, day),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="settlement-{day}.csv"'},
    )


def _answer(movement: movements.Movement) -> Response:
    if movement.after_commit == "error":
        body = {"code": "internal_error", "detail": "the bank failed after processing"}
        return JSONResponse(body, status_code=500)
    if movement.after_commit == "drop":
        return _DroppedConnection()
    return JSONResponse(movement.answer.model_dump(mode="json"))


class ConnectionDroppedError(ConnectionError):
    """Raised mid-answer on purpose: the server then closes the connection."""


class _DroppedConnection(Response):
    """Starts an answer and breaks off, as a bank whose connection dies after the commit."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"status": "succ', "more_body": True})
        raise ConnectionDroppedError("sandbox bank: connection dropped after the commit")


async def _refusal_handler(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BankRefusedError)
    body: dict[str, Any] = {**error.extra, "code": error.code, "detail": error.detail}
    return JSONResponse(body, status_code=error.status)


async def _validation_handler(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"loc": list(item.get("loc", ())), "msg": str(item.get("msg", ""))}
        for item in error.errors()
    ]
    body = {"code": "validation_error", "detail": "malformed request", "errors": errors}
    return JSONResponse(body, status_code=422)
