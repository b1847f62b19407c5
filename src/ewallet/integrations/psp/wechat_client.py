"""The wallet's WeChat Pay v3 client: Native orders (``code_url``), queries, notifications.

Requests are signed with the merchant's API key (``Authorization``), and a 2xx answer counts
only when WeChat Pay's platform signature on it verifies. ``out_trade_no`` is the
idempotency key at WeChat Pay: the same order again gives the same ``code_url``. Network
failures, timeouts and refusals become :class:`PspUnavailableError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from ewallet.integrations.psp import wechat_pay
from ewallet.integrations.psp.errors import PspUnavailableError, SignatureInvalidError
from ewallet.integrations.psp.keys import Lazy
from ewallet.integrations.psp.notice import PaymentNotice
from ewallet.kit.clock import Clock
from ewallet.kit.money import InvalidAmountError, Money

NATIVE_PATH: Final = "/v3/pay/transactions/native"
QUERY_PATH: Final = "/v3/pay/transactions/out-trade-no/{out_trade_no}"
ORDER_NOT_EXIST: Final = "ORDER_NOT_EXIST"


@dataclass(frozen=True, slots=True)
class WechatPayCredentials:
    merchant_private_key: rsa.RSAPrivateKey  # ours: signs requests
    merchant_serial: str  # serial number of our API certificate
    platform_public_key: rsa.RSAPublicKey  # WeChat Pay's: verifies answers, notifications
    platform_key_id: str | None  # its id as sent in Wechatpay-Serial (None: not checked)
    api_v3_key: str  # decrypts notification resources


class WechatPayClient:
    def __init__(
        self,
        *,
        base_url: str,
        mchid: str,
        appid: str,
        credentials: Lazy[WechatPayCredentials],
        clock: Clock,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.mchid = mchid
        self.appid = appid
        self._credentials = credentials
        self._clock = clock
        self._timeout = timeout
        self._transport = transport

    async def native(
        self, *, out_trade_no: str, amount: Money, description: str, notify_url: str
    ) -> str:
        """Create a Native (scan to pay) order; its ``code_url`` (the text of the QR code)."""
        if amount.currency != "CNY":
            raise InvalidAmountError(f"WeChat Pay takes CNY amounts, not {amount.currency}")
        order = {
            "appid": self.appid,
            "mchid": self.mchid,
            "description": description,
            "out_trade_no": out_trade_no,
            "notify_url": notify_url,
            "amount": {"total": amount.minor, "currency": amount.currency},
        }
        status, answer = await self._request("POST", NATIVE_PATH, order)
        code_url = answer.get("code_url")
        if status != 200 or not isinstance(code_url, str):
            raise PspUnavailableError(f"WeChat Pay refused the order: {_reason(status, answer)}")
        return code_url

    async def query(self, *, out_trade_no: str) -> PaymentNotice | None:
        """The transaction's state at WeChat Pay, or None when it has no such order."""
        path = QUERY_PATH.format(out_trade_no=quote(out_trade_no, safe=""))
        status, answer = await self._request("GET", f"{path}?mchid={quote(self.mchid)}", None)
        if status == 404 and answer.get("code") == ORDER_NOT_EXIST:
            return None
        if status != 200:
            raise PspUnavailableError(f"WeChat Pay refused the query: {_reason(status, answer)}")
        try:
            return wechat_pay.notice_from_transaction(answer, mchid=self.mchid, appid=self.appid)
        except SignatureInvalidError as error:
            raise PspUnavailableError(f"WeChat Pay answer not usable: {error.detail}") from error

    def verify_notify(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        """:func:`~ewallet.integrations.psp.wechat_pay.verify_wechat_notify`, configured."""
        credentials = self._credentials.get()
        return wechat_pay.verify_wechat_notify(
            headers,
            body,
            credentials.platform_public_key,
            credentials.api_v3_key,
            clock=self._clock,
            mchid=self.mchid,
            appid=self.appid,
            platform_serial=credentials.platform_key_id,
        )

    async def _request(
        self, method: str, url: str, payload: Mapping[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        """One signed call; the status and the JSON answer, verified when it claims success.

        A signed answer is always verified; an unsigned error answer is only trusted to say
        "it failed" (or, for a 404, "no such order": WeChat Pay does not sign every error).
        """
        credentials = self._credentials.get()
        body = b"" if payload is None else _json_bytes(payload)
        headers = {
            "Accept": "application/json",
            "Authorization": wechat_pay.authorization_header(
                method=method,
                url=url,
                body=body,
                mchid=self.mchid,
                serial_no=credentials.merchant_serial,
                private_key=credentials.merchant_private_key,
                now=self._clock.now(),
            ),
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, transport=self._transport
            ) as client:
                response = await client.request(
                    method, self.base_url + url, content=body or None, headers=headers
                )
        except httpx.HTTPError as error:
            raise PspUnavailableError(f"WeChat Pay unreachable: {type(error).__name__}") from error
        if response.is_success or "Wechatpay-Signature" in response.headers:
            try:
                wechat_pay.verify_signed_headers(
                    response.headers,
                    response.content,
                    credentials.platform_public_key,
                    now=self._clock.now(),
                    platform_serial=credentials.platform_key_id,
                )
            except SignatureInvalidError as error:
                raise PspUnavailableError(
                    f"WeChat Pay answer not usable: {error.detail}"
                ) from error
        try:
            answer = response.json() if response.content else {}
        except ValueError as error:
            raise PspUnavailableError("WeChat Pay answered something else than JSON") from error
        if not isinstance(answer, dict):
            raise PspUnavailableError("WeChat Pay answered something else than a JSON object")
        return response.status_code, answer


def _json_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _reason(status: int, answer: Mapping[str, Any]) -> str:
    return f"HTTP {status} {answer.get('code', '')} {answer.get('message', '')}".strip()
