"""The sandbox PSPs built from settings: mounted in the wallet (``make serve``) or standalone.

In development a PSP whose URL is unset is served by the wallet process itself, at
``/sandbox/alipay`` and ``/sandbox/wechat-pay``, and its notifications go straight into the
wallet app (an in-process transport: no port, no network, and it works under test clients
too). ``ewallet sandbox alipay|wechat-pay`` serves the same apps alone, delivering over HTTP.
Both sides take their keys from :class:`~ewallet.integrations.psp.credentials.PspKeys`, so
the wallet and its sandboxes always agree. Production never mounts a sandbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import httpx
from starlette.applications import Starlette

from ewallet.config import Environment, Settings
from ewallet.integrations.psp.credentials import ALIPAY_PLATFORM, WECHAT_PLATFORM, PspKeys
from ewallet.integrations.psp.keys import Lazy
from ewallet.kit.clock import Clock
from ewallet.sandbox.psp.alipay import AlipaySandbox, AlipaySandboxCredentials
from ewallet.sandbox.psp.delivery import DEV_RETRY_DELAYS
from ewallet.sandbox.psp.wechat_pay import (
    SandboxMerchant,
    WechatPaySandbox,
    WechatPaySandboxCredentials,
)

ALIPAY_MOUNT: Final = "/sandbox/alipay"
WECHAT_MOUNT: Final = "/sandbox/wechat-pay"


def alipay_sandbox_credentials(keys: PspKeys) -> AlipaySandboxCredentials:
    return AlipaySandboxCredentials(
        platform_private_key=keys.sandbox_private_key(ALIPAY_PLATFORM),
        apps={keys.settings.psp_alipay_app_id: keys.alipay_app_key().public_key()},
    )


def wechat_sandbox_credentials(keys: PspKeys) -> WechatPaySandboxCredentials:
    merchant = SandboxMerchant(
        mchid=keys.settings.psp_wechat_mchid,
        appid=keys.settings.psp_wechat_appid,
        serial_no=keys.wechat_merchant_serial(),
        public_key=keys.wechat_merchant_key().public_key(),
        api_v3_key=keys.wechat_api_v3_key(),
    )
    return WechatPaySandboxCredentials(
        platform_private_key=keys.sandbox_private_key(WECHAT_PLATFORM),
        platform_key_id=keys.wechat_platform_key_id(),
        merchants={merchant.mchid: merchant},
    )


def alipay_sandbox(
    settings: Settings,
    *,
    clock: Clock,
    notify_transport: httpx.AsyncBaseTransport | None = None,
    retry_delays: Sequence[float] = DEV_RETRY_DELAYS,
) -> AlipaySandbox:
    keys = PspKeys(settings)
    return AlipaySandbox(
        credentials=Lazy(lambda: alipay_sandbox_credentials(keys)),
        clock=clock,
        retry_delays=retry_delays,
        notify_transport=notify_transport,
    )


def wechat_pay_sandbox(
    settings: Settings,
    *,
    clock: Clock,
    notify_transport: httpx.AsyncBaseTransport | None = None,
    retry_delays: Sequence[float] = DEV_RETRY_DELAYS,
) -> WechatPaySandbox:
    keys = PspKeys(settings)
    return WechatPaySandbox(
        credentials=Lazy(lambda: wechat_sandbox_credentials(keys)),
        clock=clock,
        retry_delays=retry_delays,
        notify_transport=notify_transport,
    )


@dataclass(slots=True)
class InProcessSandboxes:
    """The sandboxes this process serves (none in production or when URLs are set)."""

    alipay: AlipaySandbox | None = None
    wechat_pay: WechatPaySandbox | None = None

    async def aclose(self) -> None:
        for sandbox in (self.alipay, self.wechat_pay):
            if sandbox is not None:
                await sandbox.aclose()


def mount_psp_sandboxes(app: Starlette, settings: Settings, *, clock: Clock) -> InProcessSandboxes:
    """Mount a sandbox for each PSP whose URL is unset (never in production)."""
    sandboxes = InProcessSandboxes()
    if settings.env is Environment.PRODUCTION:
        return sandboxes
    into_wallet = httpx.ASGITransport(app=app)  # notifications skip the network
    if not settings.psp_alipay_url:
        sandboxes.alipay = alipay_sandbox(settings, clock=clock, notify_transport=into_wallet)
        app.mount(ALIPAY_MOUNT, sandboxes.alipay.app)
    if not settings.psp_wechat_url:
        sandboxes.wechat_pay = wechat_pay_sandbox(
            settings, clock=clock, notify_transport=into_wallet
        )
        app.mount(WECHAT_MOUNT, sandboxes.wechat_pay.app)
    return sandboxes
