"""A sandbox WeChat Pay (API v3): Native orders, queries, a pay page and encrypted notifications.

Behaves like the real one for the parts we use (``EWALLET_PSP_WECHAT_URL`` unset mounts it
in-process at ``/sandbox/wechat-pay``):

- ``POST /v3/pay/transactions/native`` checks the merchant's ``Authorization`` signature
  (and its age), and answers ``{"code_url"}`` signed with the platform key
  (``Wechatpay-*`` headers). The same ``out_trade_no`` again gives the same ``code_url``;
  other parameters for it are ``OUT_TRADE_NO_USED``, a paid one ``ORDERPAID``.
- ``GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=`` answers the transaction
  (``404 ORDER_NOT_EXIST`` when unknown), signed.
- ``GET /pay/{out_trade_no}`` shows the order; ``POST /pay/{out_trade_no}`` pays it and
  sends a ``TRANSACTION.SUCCESS`` notification (resource AEAD_AES_256_GCM-encrypted with the
  merchant's APIv3 key, headers signed afresh for each attempt) until the answer is 2xx.

Difference, on purpose: ``code_url`` is this sandbox's pay page URL (not ``weixin://``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ewallet.integrations.psp import wechat_pay as protocol
from ewallet.integrations.psp.alipay import BEIJING
from ewallet.integrations.psp.errors import SignatureInvalidError
from ewallet.integrations.psp.keys import Lazy
from ewallet.kit.clock import Clock
from ewallet.kit.money import Money
from ewallet.sandbox.psp.delivery import DEV_RETRY_DELAYS, NotifyDelivery, Outgoing
from ewallet.sandbox.psp.pages import paid_page, pay_page, route_path, sandbox_url


@dataclass(frozen=True, slots=True)
class SandboxMerchant:
    mchid: str
    appid: str
    serial_no: str  # of the merchant's API certificate, as sent in Authorization
    public_key: rsa.RSAPublicKey
    api_v3_key: str


@dataclass(frozen=True, slots=True)
class WechatPaySandboxCredentials:
    platform_private_key: rsa.RSAPrivateKey
    platform_key_id: str  # sent as Wechatpay-Serial
    merchants: Mapping[str, SandboxMerchant]


@dataclass(slots=True)
class SandboxOrder:
    merchant: SandboxMerchant
    out_trade_no: str
    description: str
    total: int  # fen
    currency: str
    notify_url: str
    code_url: str
    trade_state: str = "NOTPAY"
    transaction_id: str | None = None
    success_time: datetime | None = None


class _RefusalError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class WechatPaySandbox:
    def __init__(
        self,
        *,
        credentials: Lazy[WechatPaySandboxCredentials],
        clock: Clock,
        retry_delays: Sequence[float] = DEV_RETRY_DELAYS,
        notify_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self.orders: dict[str, SandboxOrder] = {}
        self.deliveries = NotifyDelivery(
            accepted=lambda r: r.is_success,
            clock=clock,
            delays=retry_delays,
            transport=notify_transport,
        )
        self.app = Starlette(
            routes=[
                Route("/v3/pay/transactions/native", self._native, methods=["POST"]),
                Route(
                    "/v3/pay/transactions/out-trade-no/{out_trade_no}",
                    self._query,
                    methods=["GET"],
                ),
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

    def pay(self, out_trade_no: str) -> SandboxOrder:
        """Mark the order paid and start its notification; KeyError/ValueError otherwise."""
        order = self.orders[out_trade_no]
        if order.trade_state != "NOTPAY":
            raise ValueError(f"order {out_trade_no} is {order.trade_state}")
        now = self._clock.now()
        order.trade_state = "SUCCESS"
        order.success_time = now
        order.transaction_id = "4200" + "".join(secrets.choice("0123456789") for _ in range(24))
        self.deliveries.start(out_trade_no, order.notify_url, lambda: self.notification(order))
        return order

    def transaction(self, order: SandboxOrder) -> dict[str, Any]:
        """The v3 transaction object (query answer, decrypted notification resource)."""
        fields: dict[str, Any] = {
            "appid": order.merchant.appid,
            "mchid": order.merchant.mchid,
            "out_trade_no": order.out_trade_no,
            "trade_type": "NATIVE",
            "trade_state": order.trade_state,
            "trade_state_desc": "支付成功" if order.trade_state == "SUCCESS" else "订单未支付",
            "amount": {"total": order.total, "currency": order.currency},
        }
        if order.transaction_id and order.success_time:
            fields.update(
                transaction_id=order.transaction_id,
                bank_type="OTHERS",
                success_time=_rfc3339(order.success_time),
                payer={"openid": "o-sandbox-payer"},
            )
            fields["amount"].update(payer_total=order.total, payer_currency=order.currency)
        return fields

    def notification_body(self, order: SandboxOrder) -> bytes:
        plaintext = _json_bytes(self.transaction(order))
        resource = protocol.encrypt_resource(
            plaintext,
            order.merchant.api_v3_key,
            associated_data="transaction",
            original_type="transaction",
        )
        return _json_bytes(
            {
                "id": secrets.token_hex(16),
                "create_time": _rfc3339(self._clock.now()),
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": resource,
            }
        )

    def notification(self, order: SandboxOrder) -> Outgoing:
        """The notification for ``order``, signed now (each attempt is signed afresh)."""
        body = self.notification_body(order)
        return Outgoing(
            headers=self._signed({"Content-Type": "application/json"}, body), content=body
        )

    async def _pay_page(self, request: Request) -> Response:
        order = self.orders.get(request.path_params["out_trade_no"])
        if order is None:
            return JSONResponse({"code": "ORDER_NOT_EXIST"}, status_code=404)
        state = "unpaid" if order.trade_state == "NOTPAY" else order.trade_state
        amount = Money(order.total, order.currency).to_decimal_string()
        action = sandbox_url(request, f"/pay/{quote(order.out_trade_no, safe='')}")
        return pay_page(
            brand="WeChat Pay",
            subject=order.description,
            amount=amount,
            state=state,
            action=action,
        )

    async def _pay(self, request: Request) -> Response:
        out_trade_no = request.path_params["out_trade_no"]
        try:
            order = self.pay(out_trade_no)
        except KeyError:
            return JSONResponse({"code": "ORDER_NOT_EXIST"}, status_code=404)
        except ValueError as error:
            return JSONResponse({"code": "ORDERPAID", "message": str(error)}, status_code=409)
        assert order.transaction_id is not None
        if "text/html" in request.headers.get("accept", ""):
            return paid_page(brand="WeChat Pay", trade_no=order.transaction_id)
        return JSONResponse(
            {
                "out_trade_no": out_trade_no,
                "transaction_id": order.transaction_id,
                "trade_state": "SUCCESS",
            }
        )

    # --- the API (the wallet's side) --------------------------------------------------------

    def _signed(self, headers: dict[str, str], body: bytes) -> dict[str, str]:
        credentials = self._credentials.get()
        return headers | protocol.signed_headers(
            body,
            private_key=credentials.platform_private_key,
            serial=credentials.platform_key_id,
            now=self._clock.now(),
        )

    def _answer(self, payload: Mapping[str, Any], status: int = 200) -> Response:
        body = _json_bytes(payload)
        headers = self._signed({}, body)
        return Response(body, status_code=status, headers=headers, media_type="application/json")

    async def _authenticate(self, request: Request, body: bytes) -> SandboxMerchant:
        url = route_path(request) + (f"?{request.url.query}" if request.url.query else "")
        try:
            auth = protocol.parse_authorization(request.headers.get("authorization", ""))
            merchant = self._credentials.get().merchants.get(auth.mchid)
            if merchant is None or merchant.serial_no != auth.serial_no:
                raise _RefusalError(401, "SIGN_ERROR", "商户证书序列号有误")
            protocol.verify_authorization(
                request.headers["authorization"],
                method=request.method,
                url=url,
                body=body,
                public_key=merchant.public_key,
                now=self._clock.now(),
            )
        except SignatureInvalidError as error:
            raise _RefusalError(401, "SIGN_ERROR", error.detail or "签名错误") from error
        return merchant

    async def _native(self, request: Request) -> Response:
        body = await request.body()
        try:
            merchant = await self._authenticate(request, body)
            order = self._open(merchant, body, request)
        except _RefusalError as refusal:
            return self._answer({"code": refusal.code, "message": refusal.message}, refusal.status)
        return self._answer({"code_url": order.code_url})

    def _open(self, merchant: SandboxMerchant, body: bytes, request: Request) -> SandboxOrder:
        try:
            data = json.loads(body)
            total, currency = data["amount"]["total"], data["amount"].get("currency", "CNY")
            fields = (data["out_trade_no"], data["description"], data["notify_url"])
        except (ValueError, KeyError, TypeError):
            raise _RefusalError(400, "PARAM_ERROR", "缺少参数") from None
        out_trade_no, description, notify_url = (str(f) for f in fields)
        if data.get("mchid") != merchant.mchid or data.get("appid") != merchant.appid:
            raise _RefusalError(400, "PARAM_ERROR", "appid和mch_id不匹配")
        if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
            raise _RefusalError(400, "PARAM_ERROR", "amount.total 无效")
        if not 6 <= len(out_trade_no) <= 32 or currency != "CNY":
            raise _RefusalError(400, "PARAM_ERROR", "参数无效")
        existing = self.orders.get(out_trade_no)
        if existing is not None:
            if existing.trade_state != "NOTPAY":
                raise _RefusalError(403, "ORDERPAID", "该订单已支付")
            same = (existing.merchant.mchid, existing.total, existing.description)
            if same != (merchant.mchid, total, description):
                raise _RefusalError(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            return existing
        code_url = sandbox_url(request, f"/pay/{quote(out_trade_no, safe='')}")
        order = SandboxOrder(
            merchant, out_trade_no, description, total, currency, notify_url, code_url
        )
        self.orders[out_trade_no] = order
        return order

    async def _query(self, request: Request) -> Response:
        try:
            merchant = await self._authenticate(request, b"")
            order = self._find(request, merchant)
        except _RefusalError as refusal:
            return self._answer({"code": refusal.code, "message": refusal.message}, refusal.status)
        return self._answer(self.transaction(order))

    def _find(self, request: Request, merchant: SandboxMerchant) -> SandboxOrder:
        if request.query_params.get("mchid") != merchant.mchid:
            raise _RefusalError(400, "PARAM_ERROR", "mchid 无效")
        order = self.orders.get(request.path_params["out_trade_no"])
        if order is None or order.merchant.mchid != merchant.mchid:
            raise _RefusalError(404, "ORDER_NOT_EXIST", "订单不存在")
        return order


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def _json_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
