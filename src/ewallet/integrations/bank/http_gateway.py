"""``HttpBankGateway``: the bank port over HTTP, for the in-process sandbox and a real bank.

Reached through the same httpx client either way: for the sandbox mounted in-process the
transport is ASGI (base URL ``http://sandbox-bank``), for a real bank it is the network.
ASGI transports ignore httpx's timeouts, so the whole exchange also runs under one
``asyncio.timeout``: a slow bank looks the same in both modes.

How failures map, for calls that move money (debit, credit):

- the connection could not be made (refused, connect timeout, no pooled connection): the
  request never left, so ``UpstreamUnavailableError`` -- safe to report as failed;
- anything after the request may have left (read timeout, the deadline, a dropped
  connection, a 5xx, an answer that does not parse): status ``unknown``, never a failure;
- a 4xx: the bank refused the request's form before acting -- mapped to a wallet error.

Payouts to an account number (a merchant's or biller's settlement) map the same way.

Calls that move no money (binding, query, settlement) raise ``UpstreamUnavailableError``
for any failure to get an answer: they are safe to repeat.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from typing import Any, Final, cast
from urllib.parse import quote

import httpx
from starlette.types import ASGIApp

import ewallet
from ewallet.integrations.bank.errors import (
    BankCodeAttemptsExhaustedError,
    BankCodeExpiredError,
    BankCodeInvalidError,
    BankDeclinedError,
    BankRequestReusedError,
)
from ewallet.integrations.bank.port import (
    BindingStarted,
    BoundCard,
    CreditResult,
    DebitResult,
    MovementKind,
    OperationStatus,
    PayoutResult,
    QueryStatus,
    SettlementRow,
)
from ewallet.kit.clock import Clock, SystemClock
from ewallet.kit.errors import DomainError, UpstreamUnavailableError
from ewallet.kit.money import Money

SANDBOX_BASE_URL: Final = "http://sandbox-bank"
KEY_HEADER: Final = "X-Bank-Key"
CURRENCY: Final = "CNY"  # the bank's accounts hold yuan; amounts travel as integer fen

_DECLINED_CODES: Final = frozenset({"card_not_found", "card_info_mismatch"})
_DEAD_CODE_CODES: Final = frozenset({"bind_code_expired", "binding_not_found", "binding_closed"})


class _NotSentError(Exception):
    """The request never reached the bank."""


class _OutcomeUnknownError(Exception):
    """The request may have reached the bank; its answer did not come back."""


class _InProcessTransport(httpx.ASGITransport):
    """ASGI transport on which an app that crashes mid-answer looks as it would on a
    network: a dropped connection (``RemoteProtocolError``), not a Python exception."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.HTTPError:
            raise
        except Exception as error:
            raise httpx.RemoteProtocolError(
                "the bank dropped the connection", request=request
            ) from error


class HttpBankGateway:
    """The :class:`~ewallet.integrations.bank.port.BankGateway` over HTTP."""

    def __init__(
        self,
        *,
        key: str,
        timeout: float,
        base_url: str | None = None,
        app: ASGIApp | None = None,
        clock: Clock | None = None,
    ) -> None:
        if (base_url is None) == (app is None):
            raise ValueError("give the bank's base_url, or the ASGI app of an in-process bank")
        transport = None if app is None else _InProcessTransport(app=app)
        self._timeout = timeout
        self._clock: Clock = clock or SystemClock()
        self._client = httpx.AsyncClient(
            base_url=base_url or SANDBOX_BASE_URL,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={KEY_HEADER: key, "User-Agent": f"ewallet/{ewallet.__version__}"},
        )

    @classmethod
    def in_process(
        cls, app: ASGIApp, *, key: str, timeout: float, clock: Clock | None = None
    ) -> HttpBankGateway:
        """A gateway to a bank app running in this process (the embedded sandbox)."""
        return cls(key=key, timeout=timeout, app=app, clock=clock)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def start_binding(
        self,
        *,
        card_number: str,
        holder_name: str,
        id_number: str,
        bank_phone: str,
        request_id: str,
    ) -> BindingStarted:
        body = {
            "card_number": card_number,
            "holder_name": holder_name,
            "id_number": id_number,
            "bank_phone": bank_phone,
            "request_id": request_id,
        }
        answer = await self._call("POST", "/bind", body)
        return BindingStarted(
            request_id=str(answer["request_id"]),
            bank_phone_masked=str(answer["bank_phone_masked"]),
            expires_in_seconds=int(answer["expires_in"]),
        )

    async def confirm_binding(self, *, request_id: str, code: str) -> BoundCard:
        answer = await self._call("POST", "/bind/confirm", {"request_id": request_id, "code": code})
        return BoundCard(
            agreement_token=str(answer["agreement_token"]),
            bank_code=str(answer["bank_code"]),
            bank_name=str(answer["bank_name"]),
            card_type=str(answer["card_type"]),
            last4=str(answer["card_last4"]),
        )

    async def unbind(self, *, agreement_token: str) -> None:
        await self._call(
            "POST",
            "/unbind",
            {"agreement_token": agreement_token},
            tolerated={"agreement_not_found"},  # already gone is what we wanted
        )

    async def debit(self, *, agreement_token: str, amount: Money, request_id: str) -> DebitResult:
        return await self._move("/debits", agreement_token, amount, request_id)

    async def credit(self, *, agreement_token: str, amount: Money, request_id: str) -> CreditResult:
        return await self._move("/credits", agreement_token, amount, request_id)

    async def payout(
        self, *, account_number: str, holder_name: str, amount: Money, request_id: str
    ) -> PayoutResult:
        body = {"account_number": account_number, "holder_name": holder_name}
        return await self._send("/payouts", body, amount, request_id)

    async def check_account_name(self, *, account_number: str, holder_name: str) -> str | None:
        body = {"account_number": account_number, "holder_name": holder_name}
        answer = await self._call("POST", "/name-checks", body)
        if answer.get("matches") is True:
            return None
        reason = answer.get("reason")
        return str(reason) if reason else "name_mismatch"

    async def query(self, *, request_id: str) -> OperationStatus:
        answer = await self._call("GET", f"/operations/{quote(request_id, safe='')}")
        status = cast(QueryStatus, answer["status"])
        if status not in ("succeeded", "declined", "not_found"):
            raise UpstreamUnavailableError(f"the bank answered an unknown status {status!r}")
        amount = answer.get("amount_fen")
        occurred = answer.get("occurred_at")
        return OperationStatus(
            request_id=request_id,
            status=status,
            kind=cast(MovementKind | None, answer.get("type")),
            amount=None if amount is None else Money(int(amount), CURRENCY),
            bank_reference=answer.get("bank_reference"),
            reason=answer.get("reason"),
            occurred_at=None if occurred is None else datetime.fromisoformat(occurred),
        )

    async def settlement(self, day: date) -> list[SettlementRow]:
        response = await self._answer("GET", f"/settlement/{day.isoformat()}")
        try:
            return [
                SettlementRow(
                    request_id=row["request_id"],
                    kind=cast(MovementKind, row["type"]),
                    amount=Money(int(row["amount_fen"]), CURRENCY),
                    status=row["status"],
                    bank_reference=row["bank_reference"],
                    occurred_at=datetime.fromisoformat(row["occurred_at"]),
                )
                for row in csv.DictReader(io.StringIO(response.text))
            ]
        except (KeyError, ValueError) as error:
            raise UpstreamUnavailableError("the bank's settlement file does not parse") from error

    async def _move(
        self, path: str, agreement_token: str, amount: Money, request_id: str
    ) -> DebitResult:
        return await self._send(path, {"agreement_token": agreement_token}, amount, request_id)

    async def _send(
        self, path: str, fields: dict[str, Any], amount: Money, request_id: str
    ) -> DebitResult:
        """One money movement: ``fields`` name whose money (an agreement, an account)."""
        if amount.currency != CURRENCY or amount.minor <= 0:
            raise ValueError(f"the bank moves positive {CURRENCY} amounts, not {amount}")
        body = {**fields, "amount_fen": amount.minor, "request_id": request_id}
        try:
            response = await self._exchange("POST", path, body)
        except _NotSentError as error:
            raise UpstreamUnavailableError(f"the bank is unreachable ({error})") from error
        except _OutcomeUnknownError as error:
            return self._result(request_id, "unknown", reason=str(error))
        if response.status_code >= 500:
            return self._result(request_id, "unknown", reason=f"bank_http_{response.status_code}")
        if response.status_code >= 400:
            raise _refusal(response)
        try:
            answer = response.json()
            status = answer["status"]
            reference = str(answer["bank_reference"])
        except (ValueError, KeyError, TypeError):
            return self._result(request_id, "unknown", reason="malformed_answer")
        if status not in ("succeeded", "declined"):
            return self._result(request_id, "unknown", reason="malformed_answer")
        return self._result(request_id, status, reference=reference, reason=answer.get("reason"))

    def _result(
        self,
        request_id: str,
        status: Any,
        *,
        reference: str | None = None,
        reason: str | None = None,
    ) -> DebitResult:
        return DebitResult(
            request_id=request_id,
            status=status,
            bank_reference=reference,
            reason=reason,
            answered_at=self._clock.now(),
        )

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        tolerated: frozenset[str] | set[str] = frozenset(),
    ) -> dict[str, Any]:
        """A call that moves no money, answered with a JSON object."""
        response = await self._answer(method, path, body, tolerated=tolerated)
        try:
            answer = response.json()
        except ValueError as error:
            raise UpstreamUnavailableError("the bank's answer does not parse") from error
        if not isinstance(answer, dict):
            raise UpstreamUnavailableError("the bank's answer is not an object")
        return answer

    async def _answer(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        tolerated: frozenset[str] | set[str] = frozenset(),
    ) -> httpx.Response:
        try:
            response = await self._exchange(method, path, body)
        except (_NotSentError, _OutcomeUnknownError) as error:
            raise UpstreamUnavailableError(f"the bank did not answer ({error})") from error
        if response.status_code >= 500:
            raise UpstreamUnavailableError(f"the bank answered HTTP {response.status_code}")
        if response.status_code >= 400 and _code_of(response) not in tolerated:
            raise _refusal(response)
        return response

    async def _exchange(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._client.request(method, path, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise _NotSentError(type(error).__name__) from error
        except (TimeoutError, httpx.TimeoutException) as error:
            raise _OutcomeUnknownError("timeout") from error
        except httpx.TransportError as error:
            raise _OutcomeUnknownError("connection_lost") from error


def _problem(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """The bank's refusal ``code`` and body (``http_<status>`` when it sent none)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    code = body.get("code")
    return (code if isinstance(code, str) else f"http_{response.status_code}"), body


def _code_of(response: httpx.Response) -> str:
    return _problem(response)[0]


def _refusal(response: httpx.Response) -> DomainError:
    """The wallet error for a 4xx refusal (nothing happened at the bank)."""
    code, body = _problem(response)
    detail = body.get("detail") if isinstance(body.get("detail"), str) else None
    error_type: type[DomainError]
    extra: dict[str, Any] = {}
    if code in _DECLINED_CODES:
        error_type, extra = BankDeclinedError, {"reason": code}
    elif code == "bind_code_invalid":
        error_type = BankCodeInvalidError
        extra = {"remaining_attempts": body.get("remaining_attempts")}
    elif code in _DEAD_CODE_CODES:
        error_type = BankCodeExpiredError
    elif code == "too_many_attempts":
        # The bank's binding is dead, but a new one may start at once.
        error_type, extra = BankCodeAttemptsExhaustedError, {"retry_after": 0}
    elif code == "request_id_reused":
        error_type = BankRequestReusedError
    elif response.status_code in (401, 403):
        return UpstreamUnavailableError("the bank refused our merchant key")
    else:
        return UpstreamUnavailableError(f"the bank refused the request ({code})")
    return error_type(detail, **extra)
