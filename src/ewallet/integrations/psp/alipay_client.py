"""The wallet's Alipay client: start a payment (QR code, page-pay URL), query it, verify notifies.

Every call is one signed form POST to the gateway; an answer counts only when its
signature verifies, so a forged or garbled "not found" can never close a paid top-up.
Network failures, timeouts and refusals become :class:`PspUnavailableError` (the top-up
was not started: nothing to undo). ``out_trade_no`` is the idempotency key at Alipay: a
repeated precreate for the same order gives the same QR code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from ewallet.integrations.psp import alipay
from ewallet.integrations.psp.errors import PspUnavailableError, SignatureInvalidError
from ewallet.integrations.psp.keys import Lazy
from ewallet.integrations.psp.notice import PaymentNotice
from ewallet.kit.clock import Clock
from ewallet.kit.money import Money

PRECREATE: Final = "alipay.trade.precreate"
PAGE_PAY: Final = "alipay.trade.page.pay"
QUERY: Final = "alipay.trade.query"
TRADE_NOT_EXIST: Final = "ACQ.TRADE_NOT_EXIST"


@dataclass(frozen=True, slots=True)
class AlipayCredentials:
    app_private_key: rsa.RSAPrivateKey  # ours: signs requests
    alipay_public_key: rsa.RSAPublicKey  # Alipay's: verifies answers and notifies


class AlipayClient:
    def __init__(
        self,
        *,
        gateway: str,
        app_id: str,
        credentials: Lazy[AlipayCredentials],
        clock: Clock,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.gateway = gateway
        self.app_id = app_id
        self._credentials = credentials
        self._clock = clock
        self._timeout = timeout
        self._transport = transport  # in-process sandbox, or a test's

    def page_pay_url(
        self,
        *,
        out_trade_no: str,
        amount: Money,
        subject: str,
        notify_url: str,
        return_url: str | None = None,
    ) -> str:
        """The browser URL of Alipay's cashier page for this order (no call made)."""
        params = alipay.build_request(
            app_id=self.app_id,
            method=PAGE_PAY,
            biz_content={
                "out_trade_no": out_trade_no,
                "product_code": "FAST_INSTANT_TRADE_PAY",
                "total_amount": alipay.yuan(amount),
                "subject": subject,
            },
            private_key=self._credentials.get().app_private_key,
            now=self._clock.now(),
            notify_url=notify_url,
            return_url=return_url,
        )
        return alipay.gateway_url(self.gateway, params)

    async def precreate(
        self, *, out_trade_no: str, amount: Money, subject: str, notify_url: str
    ) -> str:
        """Create the order at Alipay; its ``qr_code`` (the text to show as a QR code)."""
        answer = await self._call(
            PRECREATE,
            {"out_trade_no": out_trade_no, "total_amount": alipay.yuan(amount), "subject": subject},
            notify_url=notify_url,
        )
        qr_code = answer.get("qr_code")
        if answer.get("code") != alipay.SUCCESS_CODE or not isinstance(qr_code, str):
            raise PspUnavailableError(f"Alipay refused precreate: {_reason(answer)}")
        return qr_code

    async def query(self, *, out_trade_no: str) -> PaymentNotice | None:
        """The trade's state at Alipay, or None when Alipay has no such trade."""
        answer = await self._call(QUERY, {"out_trade_no": out_trade_no})
        if answer.get("sub_code") == TRADE_NOT_EXIST:
            return None
        if answer.get("code") != alipay.SUCCESS_CODE:
            raise PspUnavailableError(f"Alipay refused query: {_reason(answer)}")
        return alipay.notice_from_trade(answer, paid_at_field="send_pay_date")

    def verify_notify(self, form: Mapping[str, str]) -> PaymentNotice:
        """:func:`~ewallet.integrations.psp.alipay.verify_alipay_notify` with our key and app."""
        return alipay.verify_alipay_notify(
            form, self._credentials.get().alipay_public_key, app_id=self.app_id
        )

    async def _call(
        self, method: str, biz_content: Mapping[str, Any], *, notify_url: str | None = None
    ) -> dict[str, Any]:
        credentials = self._credentials.get()
        params = alipay.build_request(
            app_id=self.app_id,
            method=method,
            biz_content=biz_content,
            private_key=credentials.app_private_key,
            now=self._clock.now(),
            notify_url=notify_url,
        )
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, transport=self._transport
            ) as client:
                response = await client.post(self.gateway, data=params)
        except httpx.HTTPError as error:
            raise PspUnavailableError(f"Alipay unreachable: {type(error).__name__}") from error
        if response.status_code != 200:
            raise PspUnavailableError(f"Alipay answered HTTP {response.status_code}")
        try:
            return alipay.verify_response(response.text, method, credentials.alipay_public_key)
        except SignatureInvalidError as error:
            raise PspUnavailableError(f"Alipay answer not usable: {error.detail}") from error


def _reason(answer: Mapping[str, Any]) -> str:
    fields = ("code", "msg", "sub_code", "sub_msg")
    return json.dumps({k: answer[k] for k in fields if k in answer}, ensure_ascii=False)
