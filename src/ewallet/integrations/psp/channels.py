"""``PspChannels``: what the top-up service uses to start, query and verify PSP payments.

Built once per process from settings by the composition root (``services.psp``). A channel
is a PSP we can take money from: the real one when its URL is set, a PSP served inside this
process otherwise (development's sandboxes, which :mod:`ewallet.bootstrap` mounts on the
app and hands over as :class:`InProcessPsp`), or none (production without that PSP): using
it is then ``PspNotConfiguredError``.

Calls to a PSP go over the network: make them outside any database transaction, and use
the top-up's deterministic id as ``out_trade_no`` so a retried start never opens two
payments (both PSPs answer the same order with the same QR code).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, TypeVar
from urllib.parse import urlsplit

import httpx
from starlette.types import ASGIApp

from ewallet.config import Settings
from ewallet.integrations.psp.alipay_client import AlipayClient
from ewallet.integrations.psp.credentials import PspKeys
from ewallet.integrations.psp.errors import PspNotConfiguredError
from ewallet.integrations.psp.keys import Lazy
from ewallet.integrations.psp.notice import PaymentNotice, PspName
from ewallet.integrations.psp.wechat_client import WechatPayClient
from ewallet.kit.clock import Clock
from ewallet.kit.money import Money

ALIPAY_CALLBACK: Final = "/v1/callbacks/alipay"
WECHAT_CALLBACK: Final = "/v1/callbacks/wechat-pay"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class InProcessPsp:
    """A PSP served by this very process: its ASGI app, mounted on the wallet at ``mount``
    (e.g. ``/sandbox/alipay``). Its links point there; calls go straight into ``app``."""

    app: ASGIApp
    mount: str


@dataclass(frozen=True, slots=True)
class StartedPayment:
    """Where the payer goes next: ``qr_code`` is the text to show as a QR code;
    ``pay_url`` a link a browser or phone can open (None when the PSP gives none)."""

    method: PspName
    out_trade_no: str
    pay_url: str | None
    qr_code: str | None


class PspChannels:
    def __init__(
        self,
        *,
        alipay: AlipayClient | None,
        wechat_pay: WechatPayClient | None,
        public_url: str,
    ) -> None:
        self.alipay = alipay
        self.wechat_pay = wechat_pay
        self.public_url = public_url.rstrip("/")

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        clock: Clock,
        in_process: Mapping[PspName, InProcessPsp] | None = None,
    ) -> PspChannels:
        """Channels for ``settings``; ``in_process`` are the PSPs this process serves itself
        (used for a PSP whose URL is unset)."""
        keys = PspKeys(settings)
        keys.check()
        public = (settings.psp_public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
        prefix = urlsplit(public).path.rstrip("/")
        timeout = settings.psp_timeout_seconds
        here = in_process or {}
        alipay = wechat_pay = None
        if settings.psp_alipay_url or "alipay" in here:
            transport = None
            gateway = settings.psp_alipay_url
            if not gateway:
                served = here["alipay"]
                gateway = f"{public}{served.mount}/gateway.do"
                transport = _into(served.app, prefix + served.mount)
            alipay = AlipayClient(
                gateway=str(gateway),
                app_id=settings.psp_alipay_app_id,
                credentials=_credentials(keys, keys.alipay),
                clock=clock,
                timeout=timeout,
                transport=transport,
            )
        if settings.psp_wechat_url or "wechat_pay" in here:
            transport = None
            base_url = settings.psp_wechat_url
            if not base_url:
                served = here["wechat_pay"]
                base_url = f"{public}{served.mount}"
                transport = _into(served.app, prefix + served.mount)
            wechat_pay = WechatPayClient(
                base_url=str(base_url),
                mchid=settings.psp_wechat_mchid,
                appid=settings.psp_wechat_appid,
                credentials=_credentials(keys, keys.wechat),
                clock=clock,
                timeout=timeout,
                transport=transport,
            )
        return cls(alipay=alipay, wechat_pay=wechat_pay, public_url=public)

    @property
    def alipay_notify_url(self) -> str:
        return self.public_url + ALIPAY_CALLBACK

    @property
    def wechat_notify_url(self) -> str:
        return self.public_url + WECHAT_CALLBACK

    async def start_payment(
        self, *, method: PspName, out_trade_no: str, amount: Money, subject: str
    ) -> StartedPayment:
        """Open the order at the PSP (idempotent per ``out_trade_no``); where to pay it.

        Raises ``PspUnavailableError``/``PspNotConfiguredError`` (503 upstream_unavailable).
        After a timeout the order may exist at the PSP all the same: starting again with the
        same ``out_trade_no`` returns it, and a notify for it can still arrive.
        """
        if method == "alipay":
            qr_code = await self._alipay().precreate(
                out_trade_no=out_trade_no,
                amount=amount,
                subject=subject,
                notify_url=self.alipay_notify_url,
            )
            return StartedPayment(method, out_trade_no, pay_url=qr_code, qr_code=qr_code)
        code_url = await self._wechat().native(
            out_trade_no=out_trade_no,
            amount=amount,
            description=subject,
            notify_url=self.wechat_notify_url,
        )
        pay_url = code_url if code_url.startswith(("https://", "http://")) else None
        return StartedPayment(method, out_trade_no, pay_url=pay_url, qr_code=code_url)

    async def query(self, *, method: PspName, out_trade_no: str) -> PaymentNotice | None:
        """The payment's state at the PSP (None: unknown there), for reconciliation."""
        if method == "alipay":
            return await self._alipay().query(out_trade_no=out_trade_no)
        return await self._wechat().query(out_trade_no=out_trade_no)

    def verify_alipay_notify(self, form: Mapping[str, str]) -> PaymentNotice:
        """A verified Alipay notify; ``SignatureInvalidError`` otherwise (answer ``fail``)."""
        return self._alipay().verify_notify(form)

    def verify_wechat_notify(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        """A verified, decrypted WeChat Pay notification; ``SignatureInvalidError`` otherwise."""
        return self._wechat().verify_notify(headers, body)

    def _alipay(self) -> AlipayClient:
        if self.alipay is None:
            raise PspNotConfiguredError("Alipay is not configured (EWALLET_PSP_ALIPAY_URL)")
        return self.alipay

    def _wechat(self) -> WechatPayClient:
        if self.wechat_pay is None:
            raise PspNotConfiguredError("WeChat Pay is not configured (EWALLET_PSP_WECHAT_URL)")
        return self.wechat_pay


def _into(app: ASGIApp, root_path: str) -> httpx.AsyncBaseTransport:
    """A transport into an in-process sandbox app, as if reached at its mount point."""
    return httpx.ASGITransport(app=app, root_path=root_path)


def _credentials(keys: PspKeys, load: Callable[[], T]) -> Lazy[T]:
    """Lazy in development (no RSA key is made until a payment needs it); eager in
    production, so a missing or unreadable key stops start-up instead of a top-up."""
    return Lazy.of(load()) if keys.production else Lazy(load)
