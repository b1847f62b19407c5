"""The sandbox PSPs end to end over HTTP (ASGI transports): our clients start and query
payments, a tester pays, and the signed notifications reach a receiver, retried until it
acknowledges them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from ewallet.integrations.psp import PaymentStatus, PspUnavailableError, wechat_pay
from ewallet.integrations.psp.alipay_client import AlipayClient, AlipayCredentials
from ewallet.integrations.psp.keys import Lazy
from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import InvalidAmountError, Money
from ewallet.sandbox.psp import AlipaySandbox, WechatPaySandbox
from ewallet.sandbox.psp.delivery import NotifyDelivery, Outgoing
from tests.psp.conftest import (
    FAST_RETRIES,
    MCHID,
    MERCHANT_SERIAL,
    AlipayClientFactory,
    Keys,
    Receiver,
    WechatClientFactory,
)

NOTIFY_ALIPAY = "http://wallet.test/callbacks/alipay"
NOTIFY_WECHAT = "http://wallet.test/callbacks/wechat-pay"


def browser(sandbox: AlipaySandbox | WechatPaySandbox, base: str) -> httpx.AsyncClient:
    """The person with the phone: opens pay pages and presses "pay"."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=base)


# --- Alipay -------------------------------------------------------------------------------


async def test_alipay_precreate_pay_notify_query(
    alipay_client: AlipayClientFactory, alipay_sandbox: AlipaySandbox, receiver: Receiver
) -> None:
    client = alipay_client()
    amount = Money.parse("88.88")
    qr = await client.precreate(
        out_trade_no="tu_a1", amount=amount, subject="钱包充值", notify_url=NOTIFY_ALIPAY
    )
    assert qr == "http://alipay.test/pay/tu_a1"
    again = await client.precreate(
        out_trade_no="tu_a1", amount=amount, subject="钱包充值", notify_url=NOTIFY_ALIPAY
    )
    assert again == qr  # out_trade_no is the idempotency key
    waiting = await client.query(out_trade_no="tu_a1")
    assert waiting is not None
    assert (waiting.status, waiting.trade_no, waiting.paid_at) == ("pending", None, None)

    async with browser(alipay_sandbox, "http://alipay.test") as phone:
        page = await phone.get("/pay/tu_a1")
        assert page.status_code == 200
        assert "¥88.88" in page.text
        assert 'action="http://alipay.test/pay/tu_a1"' in page.text
        paid = await phone.post("/pay/tu_a1")
        assert paid.status_code == 200
        assert (await phone.post("/pay/tu_a1")).status_code == 409  # paid once only
    await alipay_sandbox.deliveries.wait_idle()

    [notice] = receiver.notices()
    assert notice.out_trade_no == "tu_a1"
    assert notice.trade_no == paid.json()["trade_no"]
    assert (notice.amount_fen, notice.status) == (8888, PaymentStatus.SUCCEEDED)
    assert [a.status_code for a in alipay_sandbox.deliveries.attempts] == [200]
    assert receiver.received[0].body.decode().count("sign=") == 1
    settled = await client.query(out_trade_no="tu_a1")
    assert settled is not None
    assert (settled.status, settled.trade_no, settled.paid_at) == (
        notice.status,
        notice.trade_no,
        notice.paid_at,
    )


async def test_alipay_retries_until_success(
    alipay_client: AlipayClientFactory, alipay_sandbox: AlipaySandbox, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    await alipay_client().precreate(
        out_trade_no="tu_a2", amount=Money(1), subject="s", notify_url=NOTIFY_ALIPAY
    )
    alipay_sandbox.pay("tu_a2")
    await alipay_sandbox.deliveries.wait_idle()
    attempts = alipay_sandbox.deliveries.for_key("tu_a2")
    assert [(a.attempt, a.accepted) for a in attempts] == [(1, False), (2, False), (3, True)]
    assert [r.status for r in receiver.received] == [200, 200, 200]  # "fail", "fail", "success"
    assert len({r.notice for r in receiver.received}) == 1  # the same notice each time


async def test_alipay_gives_up_after_its_schedule(
    alipay_client: AlipayClientFactory, alipay_sandbox: AlipaySandbox, receiver: Receiver
) -> None:
    receiver.fail_first = 99
    await alipay_client().precreate(
        out_trade_no="tu_a3", amount=Money(1), subject="s", notify_url=NOTIFY_ALIPAY
    )
    alipay_sandbox.pay("tu_a3")
    await alipay_sandbox.deliveries.wait_idle()
    assert len(alipay_sandbox.deliveries.for_key("tu_a3")) == 1 + len(FAST_RETRIES)


async def test_alipay_notify_to_nowhere_is_recorded_unanswered(
    alipay_client: AlipayClientFactory, alipay_sandbox: AlipaySandbox
) -> None:
    await alipay_client().precreate(
        out_trade_no="tu_a4", amount=Money(1), subject="s", notify_url="http://wallet.test/404"
    )
    alipay_sandbox.pay("tu_a4")
    await alipay_sandbox.deliveries.wait_idle()
    assert {a.status_code for a in alipay_sandbox.deliveries.for_key("tu_a4")} == {404}


async def test_alipay_page_pay_url_leads_to_the_pay_page(
    alipay_client: AlipayClientFactory, alipay_sandbox: AlipaySandbox
) -> None:
    url = alipay_client().page_pay_url(
        out_trade_no="tu_a5", amount=Money(1230), subject="s", notify_url=NOTIFY_ALIPAY
    )
    assert url.startswith("http://alipay.test/gateway.do?")
    assert "method=alipay.trade.page.pay" in url
    async with browser(alipay_sandbox, "http://alipay.test") as web:
        response = await web.get(url)
    assert response.status_code == 302
    assert response.headers["location"] == "http://alipay.test/pay/tu_a5"
    assert alipay_sandbox.trades["tu_a5"].total_amount == "12.30"


async def test_alipay_refusals(
    alipay_client: AlipayClientFactory, alipay_sandbox: AlipaySandbox, keys: Keys
) -> None:
    await alipay_client().precreate(
        out_trade_no="tu_a6", amount=Money(100), subject="s", notify_url=NOTIFY_ALIPAY
    )
    with pytest.raises(PspUnavailableError, match=r"ACQ\.CONTEXT_INCONSISTENT"):
        await alipay_client().precreate(
            out_trade_no="tu_a6", amount=Money(101), subject="s", notify_url=NOTIFY_ALIPAY
        )
    with pytest.raises(PspUnavailableError, match=r"isv\.invalid-signature"):
        await alipay_client(app_key=keys.stranger).query(out_trade_no="tu_a6")
    with pytest.raises(PspUnavailableError, match=r"isv\.invalid-app-id"):
        await alipay_client(app_id="2021000000000000").query(out_trade_no="tu_a6")
    # An answer signed by anyone but "Alipay" is not believed.
    with pytest.raises(PspUnavailableError, match="does not verify"):
        await alipay_client(alipay_public=keys.stranger.public_key()).query(out_trade_no="tu_a6")
    assert await alipay_client().query(out_trade_no="tu_unknown") is None
    alipay_sandbox.pay("tu_a6")
    with pytest.raises(PspUnavailableError, match=r"ACQ\.TRADE_HAS_SUCCESS"):
        await alipay_client().precreate(
            out_trade_no="tu_a6", amount=Money(100), subject="s", notify_url=NOTIFY_ALIPAY
        )


async def test_alipay_unreachable_is_upstream_unavailable(keys: Keys, clock: FrozenClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = AlipayClient(
        gateway="http://alipay.test/gateway.do",
        app_id="x",
        credentials=Lazy.of(AlipayCredentials(keys.alipay_app, keys.alipay_platform.public_key())),
        clock=clock,
        timeout=1.0,
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(PspUnavailableError, match="unreachable: ConnectError") as raised:
        await client.query(out_trade_no="tu")
    assert (raised.value.code, raised.value.status) == ("upstream_unavailable", 503)


# --- WeChat Pay ---------------------------------------------------------------------------


async def test_wechat_native_pay_notify_query(
    wechat_client: WechatClientFactory, wechat_sandbox: WechatPaySandbox, receiver: Receiver
) -> None:
    client = wechat_client()
    code_url = await client.native(
        out_trade_no="tu_wx_1", amount=Money(1230), description="充值", notify_url=NOTIFY_WECHAT
    )
    assert code_url == "http://wechat.test/pay/tu_wx_1"
    assert (
        await client.native(
            out_trade_no="tu_wx_1", amount=Money(1230), description="充值", notify_url=NOTIFY_WECHAT
        )
        == code_url
    )
    waiting = await client.query(out_trade_no="tu_wx_1")
    assert waiting is not None
    assert (waiting.status, waiting.psp_status) == (PaymentStatus.PENDING, "NOTPAY")

    async with browser(wechat_sandbox, "http://wechat.test") as phone:
        assert "¥12.30" in (await phone.get("/pay/tu_wx_1")).text
        paid = await phone.post("/pay/tu_wx_1", headers={"Accept": "text/html"})
        assert paid.status_code == 200
        assert "Paid" in paid.text
    await wechat_sandbox.deliveries.wait_idle()

    [notice] = receiver.notices()
    assert (notice.out_trade_no, notice.amount_fen, notice.currency) == ("tu_wx_1", 1230, "CNY")
    assert notice.status is PaymentStatus.SUCCEEDED
    assert [r.status for r in receiver.received] == [204]
    settled = await client.query(out_trade_no="tu_wx_1")
    assert settled == notice


async def test_wechat_retries_until_2xx_each_attempt_signed_afresh(
    wechat_client: WechatClientFactory,
    wechat_sandbox: WechatPaySandbox,
    receiver: Receiver,
    clock: FrozenClock,
) -> None:
    receiver.fail_first = 2
    await wechat_client().native(
        out_trade_no="tu_wx_2", amount=Money(1), description="d", notify_url=NOTIFY_WECHAT
    )
    wechat_sandbox.pay("tu_wx_2")
    await wechat_sandbox.deliveries.wait_idle()
    assert [r.status for r in receiver.received] == [500, 500, 204]
    nonces = {r.headers["wechatpay-nonce"] for r in receiver.received}
    assert len(nonces) == 3
    assert len({r.notice for r in receiver.received}) == 1


async def test_wechat_refusals(
    wechat_client: WechatClientFactory,
    wechat_sandbox: WechatPaySandbox,
    keys: Keys,
    clock: FrozenClock,
) -> None:
    await wechat_client().native(
        out_trade_no="tu_wx_3", amount=Money(100), description="d", notify_url=NOTIFY_WECHAT
    )
    with pytest.raises(PspUnavailableError, match="OUT_TRADE_NO_USED"):
        await wechat_client().native(
            out_trade_no="tu_wx_3", amount=Money(101), description="d", notify_url=NOTIFY_WECHAT
        )
    with pytest.raises(PspUnavailableError, match="401 SIGN_ERROR"):
        await wechat_client(merchant_key=keys.stranger).query(out_trade_no="tu_wx_3")
    # A request signed ten minutes ago is refused by the sandbox...
    url = f"/v3/pay/transactions/out-trade-no/tu_wx_3?mchid={MCHID}"
    stale = wechat_pay.authorization_header(
        method="GET",
        url=url,
        body=b"",
        mchid=MCHID,
        serial_no=MERCHANT_SERIAL,
        private_key=keys.wechat_merchant,
        now=clock.now() - timedelta(minutes=10),
    )
    async with browser(wechat_sandbox, "http://wechat.test") as raw:
        answer = await raw.get(url, headers={"Authorization": stale})
    assert answer.status_code == 401
    assert answer.json()["code"] == "SIGN_ERROR"
    assert "stale" in answer.json()["message"]
    # ... and a client whose clock is that far off refuses the (fresh) answers it gets.
    behind = FrozenClock(clock.now() - timedelta(minutes=10))
    with pytest.raises(PspUnavailableError, match="stale"):
        await wechat_client(clock_override=behind).query(out_trade_no="tu_wx_3")
    with pytest.raises(PspUnavailableError, match="does not verify"):
        await wechat_client(platform_public=keys.stranger.public_key()).query(
            out_trade_no="tu_wx_3"
        )
    assert await wechat_client().query(out_trade_no="tu_wx__unknown") is None
    wechat_sandbox.pay("tu_wx_3")
    with pytest.raises(PspUnavailableError, match="ORDERPAID"):
        await wechat_client().native(
            out_trade_no="tu_wx_3", amount=Money(100), description="d", notify_url=NOTIFY_WECHAT
        )
    with pytest.raises(InvalidAmountError, match="WeChat Pay takes CNY"):
        await wechat_client().native(
            out_trade_no="tu_wx_4", amount=Money(1, "USD"), description="d", notify_url="x"
        )


async def test_closing_cancels_pending_retries() -> None:
    """Shutdown cancels deliveries waiting for their next try instead of leaving tasks."""
    delivery = NotifyDelivery(
        accepted=lambda r: r.is_success,
        clock=FrozenClock(),
        delays=(60.0,),
        transport=httpx.MockTransport(lambda request: httpx.Response(500)),
    )
    delivery.start("k", "http://wallet.test/n", lambda: Outgoing({}, b""))
    for _ in range(100):
        if delivery.attempts:
            break
        await asyncio.sleep(0.01)
    await delivery.aclose()
    await delivery.wait_idle(seconds=1)
    assert [a.status_code for a in delivery.attempts] == [500]
