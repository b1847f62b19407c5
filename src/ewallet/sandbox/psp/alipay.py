"""A sandbox Alipay: the gateway calls the wallet makes, a pay page, and signed async notifies.

Behaves like the real one for the parts we use, so the wallet's client runs unchanged
against it (``EWALLET_PSP_ALIPAY_URL`` unset mounts it in-process at ``/sandbox/alipay``):

- ``GET|POST /gateway.do`` checks the app's RSA2 request signature and answers signed JSON
  for ``alipay.trade.precreate`` (``qr_code``), ``alipay.trade.query`` and
  ``alipay.trade.page.pay`` (a browser redirect to the pay page). The same ``out_trade_no``
  again gives the same answer; a different amount for it is refused.
- ``GET /pay/{out_trade_no}`` shows the order; ``POST /pay/{out_trade_no}`` pays it (the
  tester's "I scanned and paid") and sends the signed notify to its ``notify_url``,
  re-sending until the answer is exactly ``success``.

Differences, on purpose: the trade exists from precreate (not from the first scan), and
``qr_code`` is this sandbox's pay page URL, so a browser can "scan" it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote, urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ewallet.integrations.psp import alipay as protocol
from ewallet.integrations.psp.errors import SignatureInvalidError
from ewallet.integrations.psp.keys import Lazy
from ewallet.kit.clock import Clock
from ewallet.kit.money import InvalidAmountError, Money
from ewallet.sandbox.psp.delivery import DEV_RETRY_DELAYS, NotifyDelivery, Outgoing
from ewallet.sandbox.psp.pages import paid_page, pay_page, sandbox_url

SELLER_ID: Final = "2088000000000001"
BUYER_ID: Final = "2088000000000002"


@dataclass(frozen=True, slots=True)
class AlipaySandboxCredentials:
    platform_private_key: rsa.RSAPrivateKey  # "Alipay's" key: signs answers and notifies
    apps: Mapping[str, rsa.RSAPublicKey]  # app_id → the app's public key (checks requests)


@dataclass(slots=True)
class SandboxTrade:
    app_id: str
    out_trade_no: str
    total_amount: str  # yuan, as the app sent it
    subject: str
    notify_url: str | None
    created_at: datetime
    status: str = "WAIT_BUYER_PAY"
    trade_no: str | None = None
    paid_at: datetime | None = None
    notify_id: str | None = None


class _RefusalError(Exception):
    def __init__(self, code: str, msg: str, sub_code: str, sub_msg: str) -> None:
        super().__init__(sub_code)
        self.fields = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


class AlipaySandbox:
    def __init__(
        self,
        *,
        credentials: Lazy[AlipaySandboxCredentials],
        clock: Clock,
        retry_delays: Sequence[float] = DEV_RETRY_DELAYS,
        notify_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self.trades: dict[str, SandboxTrade] = {}
        self.deliveries = NotifyDelivery(
            accepted=lambda r: r.status_code == 200 and r.text.strip() == "success",
            clock=clock,
            delays=retry_delays,
            transport=notify_transport,
        )
        self.app = Starlette(
            routes=[
                Route("/gateway.do", self._gateway, methods=["GET", "POST"]),
                Route("/pay/{out_trade_no}", self._pay_page, methods=["GET"]),
                Route("/pay/{out_trade_no}", self._pay, methods=["POST"]),
            ],
            lifespan=self._lifespan,
        )

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        yield
        await self.aclose()

    async def aclose(self) -> None:
        await self.deliveries.aclose()

    # --- paying (the tester's side) ---------------------------------------------------------

    def pay(self, out_trade_no: str) -> SandboxTrade:
        """Mark the order paid and start its notify; KeyError/ValueError when it cannot be."""
        trade = self.trades[out_trade_no]
        if trade.status != "WAIT_BUYER_PAY":
            raise ValueError(f"trade {out_trade_no} is {trade.status}")
        now = self._clock.now()
        trade.status = "TRADE_SUCCESS"
        trade.paid_at = now
        trade.trade_no = now.strftime("%Y%m%d") + "".join(
            secrets.choice("0123456789") for _ in range(20)
        )
        trade.notify_id = secrets.token_hex(16)
        if trade.notify_url:
            self.deliveries.start(out_trade_no, trade.notify_url, lambda: self._notify(trade))
        return trade

    def notify_form(self, trade: SandboxTrade) -> dict[str, str]:
        """The signed notify for ``trade``, as its form fields."""
        assert trade.trade_no is not None
        assert trade.paid_at is not None
        assert trade.notify_id is not None
        fields = {
            "notify_time": protocol.format_time(self._clock.now()),
            "notify_type": "trade_status_sync",
            "notify_id": trade.notify_id,
            "app_id": trade.app_id,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status,
            "total_amount": trade.total_amount,
            "receipt_amount": trade.total_amount,
            "buyer_pay_amount": trade.total_amount,
            "invoice_amount": trade.total_amount,
            "subject": trade.subject,
            "gmt_create": protocol.format_time(trade.created_at),
            "gmt_payment": protocol.format_time(trade.paid_at),
            "seller_id": SELLER_ID,
            "buyer_id": BUYER_ID,
            "fund_bill_list": json.dumps(
                [{"amount": trade.total_amount, "fundChannel": "ALIPAYACCOUNT"}],
                separators=(",", ":"),
            ),
        }
        return protocol.sign_notify(fields, self._credentials.get().platform_private_key)

    def _notify(self, trade: SandboxTrade) -> Outgoing:
        return Outgoing(
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            content=urlencode(self.notify_form(trade)).encode("ascii"),
        )

    async def _pay_page(self, request: Request) -> Response:
        trade = self.trades.get(request.path_params["out_trade_no"])
        if trade is None:
            return JSONResponse({"error": "no such trade"}, status_code=404)
        state = "unpaid" if trade.status == "WAIT_BUYER_PAY" else trade.status
        action = sandbox_url(request, f"/pay/{quote(trade.out_trade_no, safe='')}")
        return pay_page(
            brand="Alipay",
            subject=trade.subject,
            amount=trade.total_amount,
            state=state,
            action=action,
        )

    async def _pay(self, request: Request) -> Response:
        out_trade_no = request.path_params["out_trade_no"]
        try:
            trade = self.pay(out_trade_no)
        except KeyError:
            return JSONResponse({"error": "no such trade"}, status_code=404)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=409)
        assert trade.trade_no is not None
        if "text/html" in request.headers.get("accept", ""):
            return paid_page(brand="Alipay", trade_no=trade.trade_no)
        return JSONResponse(
            {"out_trade_no": out_trade_no, "trade_no": trade.trade_no, "trade_status": trade.status}
        )

    # --- the gateway (the wallet's side) ----------------------------------------------------

    async def _gateway(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            try:
                params.update(protocol.parse_form(await request.body()))
            except (SignatureInvalidError, UnicodeDecodeError):
                return Response("form expected", status_code=400)
        method = params.get("method", "")
        try:
            answer = self._dispatch(request, method, params)
        except _RefusalError as refusal:
            answer = refusal.fields
        if isinstance(answer, Response):
            return answer
        body = protocol.signed_response_body(
            method or "error", answer, self._credentials.get().platform_private_key
        )
        return Response(body, media_type="application/json; charset=utf-8")

    def _dispatch(
        self, request: Request, method: str, params: Mapping[str, str]
    ) -> dict[str, Any] | Response:
        biz = self._check(params)
        if method == "alipay.trade.precreate":
            trade = self._open(params, biz)
            url = sandbox_url(request, f"/pay/{quote(trade.out_trade_no, safe='')}")
            return _ok(out_trade_no=trade.out_trade_no, qr_code=url)
        if method == "alipay.trade.page.pay":  # a browser: on to the pay page
            trade = self._open(params, biz)
            path = f"/pay/{quote(trade.out_trade_no, safe='')}"
            return RedirectResponse(sandbox_url(request, path), status_code=302)
        if method == "alipay.trade.query":
            return self._query(params["app_id"], biz)
        raise _RefusalError("40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名")

    def _check(self, params: Mapping[str, str]) -> dict[str, Any]:
        """The app is known, the request's signature verifies; the parsed ``biz_content``."""
        key = self._credentials.get().apps.get(params.get("app_id", ""))
        if key is None:
            raise _RefusalError(
                "40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数"
            )
        if params.get("sign_type") != protocol.SIGN_TYPE:
            raise _RefusalError(
                "40002", "Invalid Arguments", "isv.invalid-signature-type", "签名类型"
            )
        if not protocol.verify_request(params, key):
            raise _RefusalError("40002", "Invalid Arguments", "isv.invalid-signature", "验签出错")
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            biz = None
        if not isinstance(biz, dict):
            raise _RefusalError(
                "40002", "Invalid Arguments", "isv.invalid-parameter", "biz_content"
            )
        return biz

    def _open(self, params: Mapping[str, str], biz: Mapping[str, Any]) -> SandboxTrade:
        out_trade_no = str(biz.get("out_trade_no") or "")
        total = str(biz.get("total_amount") or "")
        subject = str(biz.get("subject") or "")
        try:
            Money.parse(total, "CNY")
        except InvalidAmountError:
            raise _RefusalError(
                "40004", "Business Failed", "ACQ.INVALID_PARAMETER", "total_amount"
            ) from None
        if not out_trade_no or len(out_trade_no) > 64 or not subject:
            raise _RefusalError("40004", "Business Failed", "ACQ.INVALID_PARAMETER", "参数无效")
        existing = self.trades.get(out_trade_no)
        if existing is None:
            trade = SandboxTrade(
                app_id=params["app_id"],
                out_trade_no=out_trade_no,
                total_amount=total,
                subject=subject,
                notify_url=params.get("notify_url") or None,
                created_at=self._clock.now(),
            )
            self.trades[out_trade_no] = trade
            return trade
        if existing.status != "WAIT_BUYER_PAY":
            raise _RefusalError("40004", "Business Failed", "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
        if existing.app_id != params["app_id"] or existing.total_amount != total:
            raise _RefusalError(
                "40004", "Business Failed", "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改"
            )
        return existing

    def _query(self, app_id: str, biz: Mapping[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(str(biz.get("out_trade_no") or ""))
        if trade is None or trade.app_id != app_id:
            raise _RefusalError("40004", "Business Failed", "ACQ.TRADE_NOT_EXIST", "交易不存在")
        fields: dict[str, Any] = {
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status,
            "total_amount": trade.total_amount,
        }
        if trade.trade_no and trade.paid_at:
            fields.update(
                trade_no=trade.trade_no,
                buyer_logon_id="sandbox***@example.com",
                send_pay_date=protocol.format_time(trade.paid_at),
            )
        return _ok(**fields)


def _ok(**fields: Any) -> dict[str, Any]:
    return {"code": protocol.SUCCESS_CODE, "msg": "Success", **fields}
