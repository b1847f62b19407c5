"""``create_biller_app(config)``: the sandbox biller (a bill-payment aggregator) as an ASGI app.

Run alone (``ewallet sandbox biller``) or mounted in the wallet at ``/sandbox/biller`` in
development; the wallet reaches it over HTTP through :mod:`ewallet.integrations.biller`
either way. It serves the billers of the default directory:

- ``POST /bills/lookup`` ``{biller_id, account_no}`` → the holder's name, amount due
  (fen, less what was paid for the period), period and due date;
- ``POST /payments`` ``{reference, biller_id, account_no, amount_fen}`` → ``accepted`` with a
  confirmation number; idempotent by ``reference`` (the same reference and body answer the
  first confirmation again; another body is ``409 reference_reused``);
- ``GET /payments/{reference}`` → what the biller recorded (the wallet's reconciliation);
- ``GET /test-accounts`` (open) → the deterministic accounts of every biller.

Calls other than the test-account list need ``X-Biller-Key``. Refusals answer
``{"code", "detail"}`` with a 4xx status.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, insert, select, update

from ewallet.integrations.biller.directory import DEFAULT_BILLERS, BillerSpec
from ewallet.kit.clock import Clock, SystemClock
from ewallet.sandbox.biller.accounts import (
    Behaviour,
    behaviour_of,
    current_bill,
    documented_accounts,
    sandbox_biller,
)
from ewallet.sandbox.biller.store import BillerStore, payments

KEY_HEADER: Final = "X-Biller-Key"
MAX_FEN: Final = 100_000_000_00


@dataclass(frozen=True, slots=True)
class SandboxBillerConfig:
    database_url: str
    key: str
    # A "timeout" account answers only after this long: longer than the wallet waits.
    timeout_delay_seconds: float = 15.0


class SandboxBiller:
    def __init__(self, config: SandboxBillerConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.store = BillerStore(config.database_url)

    async def aclose(self) -> None:
        await self.store.aclose()

    async def recorded(self, reference: str) -> dict[str, Any] | None:
        async with self.store.transaction() as conn:
            row = (
                await conn.execute(select(payments).where(payments.c.reference == reference))
            ).first()
        return None if row is None else dict(row._mapping)

    async def count_payments(self) -> int:
        async with self.store.transaction() as conn:
            return int(await conn.scalar(select(func.count()).select_from(payments)) or 0)


class BillerRefusedError(Exception):
    def __init__(self, code: str, status: int, detail: str) -> None:
        super().__init__(detail)
        self.code, self.status, self.detail = code, status, detail


class LookupRequest(BaseModel):
    biller_id: str = Field(max_length=32)
    account_no: str = Field(max_length=32)


class LookupAnswer(BaseModel):
    biller_id: str
    account_no: str
    holder_name: str
    amount_due_fen: int
    period: str
    due_date: date


class PaymentRequest(LookupRequest):
    reference: str = Field(min_length=1, max_length=120)
    amount_fen: int = Field(gt=0, le=MAX_FEN)


class PaymentAnswer(BaseModel):
    status: str = "accepted"
    reference: str
    confirmation_no: str
    amount_fen: int
    period: str
    received_at: datetime


def create_biller_app(config: SandboxBillerConfig, *, clock: Clock | None = None) -> FastAPI:
    biller = SandboxBiller(config, clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await biller.aclose()

    app = FastAPI(
        title="ewallet sandbox biller",
        summary="A bill-payment aggregator test double: bill look-ups and payment notices.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.biller = biller
    app.add_exception_handler(BillerRefusedError, _refusal_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.include_router(_open)
    app.include_router(_keyed)
    return app


def sandbox_biller_of(app: FastAPI) -> SandboxBiller:
    biller: SandboxBiller = app.state.biller
    return biller


def _biller(request: Request) -> SandboxBiller:
    return sandbox_biller_of(request.app)


Biller = Annotated[SandboxBiller, Depends(_biller)]


def _require_key(
    biller: Biller, key: Annotated[str | None, Header(alias=KEY_HEADER)] = None
) -> None:
    if key is None or not hmac.compare_digest(key.encode(), biller.config.key.encode()):
        raise BillerRefusedError("unauthorized", 401, f"a valid {KEY_HEADER} header is required")


_open = APIRouter()
_keyed = APIRouter(dependencies=[Depends(_require_key)])


@_open.get("/")
async def about() -> dict[str, str]:
    return {"biller": "ewallet sandbox biller", "test_accounts": "/test-accounts"}


@_open.get("/test-accounts")
async def test_accounts() -> dict[str, dict[str, str]]:
    """Per biller: behaviour → account number (see docs/bills.md)."""
    return {spec.id: documented_accounts(spec) for spec in DEFAULT_BILLERS}


async def _account(
    biller: SandboxBiller, biller_id: str, account_no: str
) -> tuple[BillerSpec, Behaviour]:
    spec = sandbox_biller(biller_id)
    if spec is None:
        raise BillerRefusedError(
            "unknown_biller", 404, "this aggregator does not serve that biller"
        )
    behaviour = behaviour_of(spec, account_no)
    if behaviour is Behaviour.TIMEOUT:
        await asyncio.sleep(biller.config.timeout_delay_seconds)
    if behaviour is Behaviour.UNKNOWN:
        raise BillerRefusedError("account_not_found", 404, "the biller has no such account")
    return spec, behaviour


@_keyed.post("/bills/lookup")
async def lookup(biller: Biller, body: LookupRequest) -> LookupAnswer:
    spec, _ = await _account(biller, body.biller_id, body.account_no)
    bill = current_bill(spec, body.account_no, biller.clock.now())
    async with biller.store.transaction() as conn:
        paid = await conn.scalar(
            select(func.coalesce(func.sum(payments.c.amount_fen), 0)).where(
                payments.c.biller_id == spec.id,
                payments.c.account_no == body.account_no,
                payments.c.period == bill.period,
            )
        )
    return LookupAnswer(
        biller_id=spec.id,
        account_no=body.account_no,
        holder_name=bill.holder_name,
        amount_due_fen=max(0, bill.amount_due_fen - int(paid or 0)),
        period=bill.period,
        due_date=bill.due_date,
    )


@_keyed.post("/payments")
async def pay(biller: Biller, body: PaymentRequest) -> PaymentAnswer:
    spec, behaviour = await _account(biller, body.biller_id, body.account_no)
    if spec.fixed_amounts is not None and body.amount_fen not in spec.fixed_amounts:
        raise BillerRefusedError("amount_not_allowed", 422, "not an amount this carrier offers")
    if behaviour is Behaviour.REJECT_PAYMENT:
        raise BillerRefusedError("payment_rejected", 422, "account_closed")
    now = biller.clock.now()
    period = current_bill(spec, body.account_no, now).period
    async with biller.store.transaction() as conn:
        row = (
            await conn.execute(select(payments).where(payments.c.reference == body.reference))
        ).first()
        first = row is None
        if row is None:
            await conn.execute(
                insert(payments).values(
                    reference=body.reference,
                    biller_id=spec.id,
                    account_no=body.account_no,
                    amount_fen=body.amount_fen,
                    period=period,
                    confirmation_no=_confirmation(spec, body.reference),
                    received_at=now,
                    notifications=1,
                )
            )
        else:
            same = (row.biller_id, row.account_no, row.amount_fen) == (
                spec.id,
                body.account_no,
                body.amount_fen,
            )
            if not same:
                raise BillerRefusedError(
                    "reference_reused", 409, "another payment had this reference"
                )
            await conn.execute(
                update(payments)
                .where(payments.c.reference == body.reference)
                .values(notifications=payments.c.notifications + 1)
            )
        row = (
            await conn.execute(select(payments).where(payments.c.reference == body.reference))
        ).one()
    if first and behaviour is Behaviour.LOSE_FIRST_ANSWER:
        # Recorded and committed, but the answer never makes it back in time.
        await asyncio.sleep(biller.config.timeout_delay_seconds)
    return PaymentAnswer(
        reference=row.reference,
        confirmation_no=row.confirmation_no,
        amount_fen=row.amount_fen,
        period=row.period,
        received_at=row.received_at,
    )


@_keyed.get("/payments/{reference:path}")
async def payment(biller: Biller, reference: str) -> dict[str, Any]:
    found = await biller.recorded(reference)
    if found is None:
        raise BillerRefusedError("payment_not_found", 404, "no payment with this reference")
    return {**found, "received_at": found["received_at"].isoformat()}


def _confirmation(spec: BillerSpec, reference: str) -> str:
    digest = hashlib.sha256(reference.encode()).hexdigest()[:16].upper()
    return f"{spec.id.upper()[:6]}-{digest}"


async def _refusal_handler(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BillerRefusedError)
    return JSONResponse({"code": error.code, "detail": error.detail}, status_code=error.status)


async def _validation_handler(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"loc": list(item.get("loc", ())), "msg": str(item.get("msg", ""))}
        for item in error.errors()
    ]
    return JSONResponse(
        {"code": "validation_error", "detail": "malformed request", "errors": errors},
        status_code=422,
    )
