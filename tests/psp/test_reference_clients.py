"""The reference packages as merchants, against our sandboxes on a real uvicorn server.

One server on 127.0.0.1 (a free port) serves both sandboxes and a receiver standing in for
the wallet's callbacks; notifications travel over real HTTP. The packages drive it as they
would drive the real PSPs -- only their gateway address is changed, through a private
attribute (``AliPay._gateway``, ``WeChatPay._core._gate_way``), as neither takes it as an
argument. Used: ``AliPay.api_alipay_trade_precreate`` / ``api_alipay_trade_query`` (sign the
request, verify our signed answer), ``AliPay.verify``; ``WeChatPay.pay`` / ``query`` (sign
``Authorization``, verify our ``Wechatpay-*`` answer headers), ``WeChatPay.callback``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx
import pytest
import uvicorn
from alipay import AliPay
from starlette.applications import Starlette
from starlette.routing import Mount
from wechatpayv3 import WeChatPay, WeChatPayType

from ewallet.integrations.psp import PaymentStatus
from ewallet.integrations.psp.keys import Lazy, private_key_pem, public_key_pem
from ewallet.kit.clock import SystemClock
from ewallet.sandbox.psp import AlipaySandbox, DeliveryAttempt, WechatPaySandbox
from tests.psp.conftest import (
    API_V3_KEY,
    APP_ID,
    APPID,
    FAST_RETRIES,
    MCHID,
    MERCHANT_SERIAL,
    PLATFORM_KEY_ID,
    Keys,
    Receiver,
    alipay_sandbox_credentials,
    wechat_sandbox_credentials,
)


@dataclass
class Served:
    base: str
    receiver: Receiver
    alipay: AlipaySandbox
    wechat: WechatPaySandbox


@pytest.fixture(scope="module")
def served(keys: Keys) -> Iterator[Served]:
    clock = SystemClock()  # the packages sign with the real time
    receiver = Receiver(keys, clock, fail_first=1)
    alipay = AlipaySandbox(
        credentials=Lazy.of(alipay_sandbox_credentials(keys)),
        clock=clock,
        retry_delays=FAST_RETRIES,
    )
    wechat = WechatPaySandbox(
        credentials=Lazy.of(wechat_sandbox_credentials(keys)),
        clock=clock,
        retry_delays=FAST_RETRIES,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await alipay.aclose()
        await wechat.aclose()

    app = Starlette(
        routes=[
            Mount("/alipay", alipay.app),
            Mount("/wechat", wechat.app),
            Mount("/wallet", receiver.app),
        ],
        lifespan=lifespan,
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", ws="none", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{port}", receiver, alipay, wechat)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_python_alipay_sdk_against_the_sandbox(served: Served, keys: Keys) -> None:
    sdk = AliPay(
        appid=APP_ID,
        app_private_key_string=private_key_pem(keys.alipay_app),
        alipay_public_key_string=public_key_pem(keys.alipay_platform.public_key()),
        sign_type="RSA2",
    )
    sdk._gateway = f"{served.base}/alipay/gateway.do"  # the package has no public setting
    notify_url = f"{served.base}/wallet/callbacks/alipay"
    answer = sdk.api_alipay_trade_precreate(
        subject="钱包充值",
        out_trade_no="tu_sdk_alipay_1",
        total_amount="66.60",
        notify_url=notify_url,
    )
    assert answer["code"] == "10000"
    assert answer["qr_code"] == f"{served.base}/alipay/pay/tu_sdk_alipay_1"
    assert sdk.api_alipay_trade_query(out_trade_no="tu_sdk_alipay_1")["trade_status"] == (
        "WAIT_BUYER_PAY"
    )

    assert httpx.post(answer["qr_code"]).status_code == 200  # the payer pays

    def attempts() -> list[DeliveryAttempt]:
        return served.alipay.deliveries.for_key("tu_sdk_alipay_1")

    wait_for(lambda: len(attempts()) >= 2)
    assert [a.accepted for a in attempts()] == [False, True]  # refused once, then accepted

    form = dict(parse_qsl(served.receiver.received[-1].body.decode(), keep_blank_values=True))
    signature = form.pop("sign")
    assert sdk.verify(form, signature) is True  # the package believes our notify
    notice = served.receiver.notices()[-1]
    assert (notice.amount_fen, notice.status) == (6660, PaymentStatus.SUCCEEDED)
    queried = sdk.api_alipay_trade_query(out_trade_no="tu_sdk_alipay_1")
    assert (queried["trade_status"], queried["trade_no"]) == ("TRADE_SUCCESS", notice.trade_no)


def test_wechatpayv3_against_the_sandbox(served: Served, keys: Keys) -> None:
    client = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=MCHID,
        private_key=private_key_pem(keys.wechat_merchant),
        cert_serial_no=MERCHANT_SERIAL,
        appid=APPID,
        apiv3_key=API_V3_KEY,
        notify_url=f"{served.base}/wallet/callbacks/wechat-pay",
        public_key=public_key_pem(keys.wechat_platform.public_key()),
        public_key_id=PLATFORM_KEY_ID,
    )
    client._core._gate_way = f"{served.base}/wechat"  # the package has no public setting
    before = len(served.receiver.received)
    # ``pay`` raises if our answer's signature does not verify.
    code, message = client.pay(
        description="钱包充值", out_trade_no="tu_sdk_wechat_1", amount={"total": 1230}
    )
    assert code == 200
    code_url = json.loads(message)["code_url"]
    assert code_url == f"{served.base}/wechat/pay/tu_sdk_wechat_1"
    code, message = client.query(out_trade_no="tu_sdk_wechat_1")
    assert (code, json.loads(message)["trade_state"]) == (200, "NOTPAY")

    assert httpx.post(code_url).status_code == 200

    def attempts() -> list[DeliveryAttempt]:
        return served.wechat.deliveries.for_key("tu_sdk_wechat_1")

    wait_for(lambda: len(attempts()) >= 2)
    assert [a.status_code for a in attempts()] == [500, 204]
    assert [r.status for r in served.receiver.received[before:]] == [500, 204]
    last = served.receiver.received[-1]
    result = client.callback(last.headers, last.body)  # the package's own verify + decrypt
    assert result["resource"]["out_trade_no"] == "tu_sdk_wechat_1"
    assert result["resource"]["amount"]["total"] == 1230
    assert last.notice is not None
    assert last.notice.trade_no == result["resource"]["transaction_id"]
    code, message = client.query(out_trade_no="tu_sdk_wechat_1")
    assert json.loads(message)["trade_state"] == "SUCCESS"


def test_sandbox_refuses_a_request_the_package_signed_with_a_stranger_key(
    served: Served, keys: Keys
) -> None:
    client = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=MCHID,
        private_key=private_key_pem(keys.stranger),
        cert_serial_no=MERCHANT_SERIAL,
        appid=APPID,
        apiv3_key=API_V3_KEY,
        notify_url=f"{served.base}/wallet/callbacks/wechat-pay",
        public_key=public_key_pem(keys.wechat_platform.public_key()),
        public_key_id=PLATFORM_KEY_ID,
    )
    client._core._gate_way = f"{served.base}/wechat"
    code, message = client.query(out_trade_no="tu_sdk_wechat_1")
    assert (code, json.loads(message)["code"]) == (401, "SIGN_ERROR")
