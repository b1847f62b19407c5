"""``HttpBillerGateway``: the biller port over HTTP, to the in-process sandbox or a real one.

As with the bank (:mod:`ewallet.integrations.bank.http_gateway`), the in-process sandbox
is reached over an ASGI transport, which ignores httpx's timeouts, so every exchange also
runs under one ``asyncio.timeout``: a slow biller looks the same in both modes.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any, Final

import httpx
from starlette.types import ASGIApp

import ewallet
from ewallet.integrations.biller.errors import BillAccountNotFoundError
from ewallet.integrations.biller.port import (
    BillerConfirmation,
    BillerRejectedError,
    BillerUnreachableError,
    BillQuote,
)
from ewallet.kit.errors import UpstreamUnavailableError
from ewallet.kit.money import Money

SANDBOX_BASE_URL: Final = "http://sandbox-biller"
KEY_HEADER: Final = "X-Biller-Key"
CURRENCY: Final = "CNY"
# Refusals of a payment that are final: the biller will never take this payment.
_FINAL_REFUSALS: Final = frozenset(
    {"payment_rejected", "account_not_found", "amount_not_allowed", "unknown_biller"}
)


class _NoAnswerError(Exception):
    pass


class HttpBillerGateway:
    def __init__(
        self, *, key: str, timeout: float, base_url: str | None = None, app: ASGIApp | None = None
    ) -> None:
        if (base_url is None) == (app is None):
            raise ValueError("give the biller's base_url, or the ASGI app of an in-process one")
        transport = None if app is None else httpx.ASGITransport(app=app)
        self._timeout = timeout
        self._client = httpx.AsyncClient(
            base_url=base_url or SANDBOX_BASE_URL,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={KEY_HEADER: key, "User-Agent": f"ewallet/{ewallet.__version__}"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def lookup(self, *, biller_id: str, account_no: str) -> BillQuote:
        body = {"biller_id": biller_id, "account_no": account_no}
        try:
            response = await self._exchange("POST", "/bills/lookup", body)
        except _NoAnswerError as error:
            raise UpstreamUnavailableError(f"the biller did not answer ({error})") from error
        if response.status_code == 404 and _code(response) == "account_not_found":
            raise BillAccountNotFoundError("the biller has no account with this number")
        if response.status_code != 200:
            raise UpstreamUnavailableError(f"the biller answered HTTP {response.status_code}")
        try:
            answer = response.json()
            return BillQuote(
                holder_name=str(answer["holder_name"]),
                amount_due=Money(int(answer["amount_due_fen"]), CURRENCY),
                period=str(answer["period"]),
                due_date=date.fromisoformat(answer["due_date"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise UpstreamUnavailableError("the biller's answer does not parse") from error

    async def notify_payment(
        self, *, reference: str, biller_id: str, account_no: str, amount: Money
    ) -> BillerConfirmation:
        if amount.currency != CURRENCY or not amount.is_positive():
            raise ValueError(f"billers take positive {CURRENCY} amounts, not {amount}")
        body = {
            "reference": reference,
            "biller_id": biller_id,
            "account_no": account_no,
            "amount_fen": amount.minor,
        }
        try:
            response = await self._exchange("POST", "/payments", body)
        except _NoAnswerError as error:
            raise BillerUnreachableError(str(error)) from error
        if 400 <= response.status_code < 500 and _code(response) in _FINAL_REFUSALS:
            raise BillerRejectedError(_reason(response))
        if response.status_code != 200:
            # 5xx, or a 4xx about our request (key, form): not the payment's fault; retry.
            raise BillerUnreachableError(f"biller_http_{response.status_code}")
        try:
            answer = response.json()
            return BillerConfirmation(
                confirmation_no=str(answer["confirmation_no"]),
                received_at=datetime.fromisoformat(answer["received_at"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise BillerUnreachableError("malformed_answer") from error

    async def _exchange(self, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._client.request(method, path, json=body)
        except (TimeoutError, httpx.TimeoutException) as error:
            raise _NoAnswerError("timeout") from error
        except httpx.HTTPError as error:
            raise _NoAnswerError(type(error).__name__) from error


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _code(response: httpx.Response) -> str:
    code = _json(response).get("code")
    return code if isinstance(code, str) else f"http_{response.status_code}"


def _reason(response: httpx.Response) -> str:
    body = _json(response)
    detail = body.get("detail")
    code = _code(response)
    return f"{code}: {detail}" if isinstance(detail, str) and detail != code else code
