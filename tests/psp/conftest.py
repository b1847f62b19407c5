"""Fixtures for the PSP tests: keys made once per run, sandboxes, and a recording receiver.

RSA keys are generated here with ``cryptography`` (never committed). The receiver stands in
for the wallet's callback endpoints: it records every delivery, verifies it with our
functions, and answers what the PSP expects -- or, on request, fails the first few times so
the sandboxes' retries can be watched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ewallet.integrations.psp import (
    PaymentNotice,
    SignatureInvalidError,
    alipay_ack,
    verify_alipay_notify,
    verify_wechat_notify,
    wechat_ack,
)
from ewallet.integrations.psp.alipay import parse_form
from ewallet.integrations.psp.alipay_client import AlipayClient, AlipayCredentials
from ewallet.integrations.psp.keys import Lazy, generate_private_key
from ewallet.integrations.psp.wechat_client import WechatPayClient, WechatPayCredentials
from ewallet.kit.clock import Clock, FrozenClock
from ewallet.sandbox.psp import (
    AlipaySandbox,
    AlipaySandboxCredentials,
    SandboxMerchant,
    WechatPaySandbox,
    WechatPaySandboxCredentials,
)

APP_ID = "2021000000000042"
MCHID = "1900000042"
APPID = "wx1234567890test42"
MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
PLATFORM_KEY_ID = "PUB_KEY_ID_0000000000000000000000000000000042"
API_V3_KEY = "0123456789abcdefghijABCDEFGHIJ42"
START = datetime(2026, 3, 1, 4, 0, 0, tzinfo=UTC)  # 12:00 in Beijing
FAST_RETRIES = (0.01, 0.01, 0.01)


@dataclass(frozen=True)
class Keys:
    alipay_app: rsa.RSAPrivateKey
    alipay_platform: rsa.RSAPrivateKey
    wechat_merchant: rsa.RSAPrivateKey
    wechat_platform: rsa.RSAPrivateKey
    stranger: rsa.RSAPrivateKey  # nobody's: signs what must be refused


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(*(generate_private_key() for _ in range(5)))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    notice: PaymentNotice | None  # None: refused as signature_invalid
    status: int


@dataclass
class Receiver:
    """The wallet's two callback endpoints, reduced to verifying and recording."""

    keys: Keys
    clock: Clock
    fail_first: int = 0  # per callback: answer "not accepted" this often, then accept
    received: list[Received] = field(default_factory=list)

    def notices(self) -> list[PaymentNotice]:
        return [r.notice for r in self.received if r.notice is not None]

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/callbacks/alipay", self._alipay, methods=["POST"]),
                Route("/callbacks/wechat-pay", self._wechat, methods=["POST"]),
            ]
        )

    def _failing(self) -> bool:
        """Whether to refuse the notice just recorded: the first ``fail_first`` per callback."""
        path = self.received[-1].path
        verified = [r for r in self.received if r.notice is not None and r.path == path]
        return len(verified) <= self.fail_first

    async def _alipay(self, request: Request) -> Response:
        body = await request.body()
        try:
            notice: PaymentNotice | None = verify_alipay_notify(
                parse_form(body), self.keys.alipay_platform.public_key(), app_id=APP_ID
            )
        except SignatureInvalidError:
            notice = None
        self._record(request, body, notice)
        response = alipay_ack(accepted=notice is not None and not self._failing())
        self.received[-1].status = response.status_code
        return response

    async def _wechat(self, request: Request) -> Response:
        body = await request.body()
        try:
            notice: PaymentNotice | None = verify_wechat_notify(
                request.headers,
                body,
                self.keys.wechat_platform.public_key(),
                API_V3_KEY,
                clock=self.clock,
                mchid=MCHID,
                appid=APPID,
                platform_serial=PLATFORM_KEY_ID,
            )
        except SignatureInvalidError as error:
            self._record(request, body, None)
            response = wechat_ack(accepted=False, status_code=401, message=str(error))
        else:
            self._record(request, body, notice)
            response = wechat_ack(accepted=not self._failing())
        self.received[-1].status = response.status_code
        return response

    def _record(self, request: Request, body: bytes, notice: PaymentNotice | None) -> None:
        headers = dict(request.headers)
        self.received.append(Received(request.url.path, headers, body, notice, 0))


@pytest.fixture
def receiver(keys: Keys, clock: FrozenClock) -> Receiver:
    return Receiver(keys, clock)


def alipay_sandbox_credentials(keys: Keys) -> AlipaySandboxCredentials:
    return AlipaySandboxCredentials(
        platform_private_key=keys.alipay_platform,
        apps={APP_ID: keys.alipay_app.public_key()},
    )


def wechat_sandbox_credentials(keys: Keys) -> WechatPaySandboxCredentials:
    merchant = SandboxMerchant(
        mchid=MCHID,
        appid=APPID,
        serial_no=MERCHANT_SERIAL,
        public_key=keys.wechat_merchant.public_key(),
        api_v3_key=API_V3_KEY,
    )
    return WechatPaySandboxCredentials(
        platform_private_key=keys.wechat_platform,
        platform_key_id=PLATFORM_KEY_ID,
        merchants={MCHID: merchant},
    )


@pytest.fixture
async def alipay_sandbox(
    keys: Keys, clock: FrozenClock, receiver: Receiver
) -> AsyncIterator[AlipaySandbox]:
    sandbox = AlipaySandbox(
        credentials=Lazy.of(alipay_sandbox_credentials(keys)),
        clock=clock,
        retry_delays=FAST_RETRIES,
        notify_transport=httpx.ASGITransport(app=receiver.app),
    )
    yield sandbox
    await sandbox.aclose()


@pytest.fixture
async def wechat_sandbox(
    keys: Keys, clock: FrozenClock, receiver: Receiver
) -> AsyncIterator[WechatPaySandbox]:
    sandbox = WechatPaySandbox(
        credentials=Lazy.of(wechat_sandbox_credentials(keys)),
        clock=clock,
        retry_delays=FAST_RETRIES,
        notify_transport=httpx.ASGITransport(app=receiver.app),
    )
    yield sandbox
    await sandbox.aclose()


AlipayClientFactory = Callable[..., AlipayClient]
WechatClientFactory = Callable[..., WechatPayClient]


@pytest.fixture
def alipay_client(
    keys: Keys, clock: FrozenClock, alipay_sandbox: AlipaySandbox
) -> AlipayClientFactory:
    """A client into the sandbox; keyword overrides make a misconfigured one."""

    def make(
        *,
        app_key: rsa.RSAPrivateKey | None = None,
        alipay_public: rsa.RSAPublicKey | None = None,
        app_id: str = APP_ID,
    ) -> AlipayClient:
        credentials = AlipayCredentials(
            app_private_key=app_key or keys.alipay_app,
            alipay_public_key=alipay_public or keys.alipay_platform.public_key(),
        )
        return AlipayClient(
            gateway="http://alipay.test/gateway.do",
            app_id=app_id,
            credentials=Lazy.of(credentials),
            clock=clock,
            timeout=5.0,
            transport=httpx.ASGITransport(app=alipay_sandbox.app),
        )

    return make


@pytest.fixture
def wechat_client(
    keys: Keys, clock: FrozenClock, wechat_sandbox: WechatPaySandbox
) -> WechatClientFactory:
    def make(
        *,
        merchant_key: rsa.RSAPrivateKey | None = None,
        platform_public: rsa.RSAPublicKey | None = None,
        clock_override: Clock | None = None,
    ) -> WechatPayClient:
        credentials = WechatPayCredentials(
            merchant_private_key=merchant_key or keys.wechat_merchant,
            merchant_serial=MERCHANT_SERIAL,
            platform_public_key=platform_public or keys.wechat_platform.public_key(),
            platform_key_id=PLATFORM_KEY_ID,
            api_v3_key=API_V3_KEY,
        )
        return WechatPayClient(
            base_url="http://wechat.test",
            mchid=MCHID,
            appid=APPID,
            credentials=Lazy.of(credentials),
            clock=clock_override or clock,
            timeout=5.0,
            transport=httpx.ASGITransport(app=wechat_sandbox.app),
        )

    return make
