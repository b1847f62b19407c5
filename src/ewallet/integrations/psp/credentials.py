"""Which key each side uses, from settings: one place for the rules of docs/psp.md.

- A PSP whose URL is unset is the in-process sandbox: our side's keys come from their
  settings or else ``var_dir/psp/``; the PSP's side (its public key, the WeChat Pay key id)
  is always the sandbox's own development key, whatever the settings say.
- A PSP whose URL is set: every key from its setting; an unset one falls back to the
  development key (a standalone ``ewallet sandbox ...`` on the same ``var_dir``), except in
  production, where it is a :class:`PspConfigurationError` at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa

from ewallet.config import Environment, Settings
from ewallet.integrations.psp.alipay_client import AlipayCredentials
from ewallet.integrations.psp.errors import PspConfigurationError
from ewallet.integrations.psp.keys import (
    API_V3_KEY_LENGTH,
    DevKeyring,
    key_id,
    read_private_key,
    read_public_key,
)
from ewallet.integrations.psp.wechat_client import WechatPayCredentials

ALIPAY_APP: Final = "alipay_app"
ALIPAY_PLATFORM: Final = "alipay_platform"
WECHAT_MERCHANT: Final = "wechat_merchant"
WECHAT_PLATFORM: Final = "wechat_platform"
PLATFORM_KEY_PREFIX: Final = "PUB_KEY_ID_"  # how WeChat Pay names its public keys

T = TypeVar("T")


class PspKeys:
    def __init__(self, settings: Settings, keyring: DevKeyring | None = None) -> None:
        self.settings = settings
        self.keyring = keyring or DevKeyring(settings.var_dir)
        self.production = settings.env is Environment.PRODUCTION

    def check(self) -> None:
        """In production, refuse a configured PSP with a missing key setting (fail at start)."""
        if not self.production:
            return
        s = self.settings
        needed: dict[str, object] = {}
        if s.psp_alipay_url:
            needed |= {
                "psp_alipay_private_key_path": s.psp_alipay_private_key_path,
                "psp_alipay_public_key_path": s.psp_alipay_public_key_path,
            }
        if s.psp_wechat_url:
            needed |= {
                "psp_wechat_private_key_path": s.psp_wechat_private_key_path,
                "psp_wechat_cert_serial": s.psp_wechat_cert_serial,
                "psp_wechat_platform_key_path": s.psp_wechat_platform_key_path,
                "psp_wechat_api_v3_key": s.psp_wechat_api_v3_key,
            }
        missing = ["EWALLET_" + name.upper() for name, value in needed.items() if value is None]
        if missing:
            raise PspConfigurationError(f"production needs these settings: {', '.join(missing)}")

    # --- our side ---------------------------------------------------------------------------

    def alipay_app_key(self) -> rsa.RSAPrivateKey:
        return self._private(self.settings.psp_alipay_private_key_path, ALIPAY_APP)

    def wechat_merchant_key(self) -> rsa.RSAPrivateKey:
        return self._private(self.settings.psp_wechat_private_key_path, WECHAT_MERCHANT)

    def wechat_merchant_serial(self) -> str:
        return self.settings.psp_wechat_cert_serial or key_id(
            self.wechat_merchant_key().public_key()
        )

    def wechat_api_v3_key(self) -> str:
        secret = self.settings.psp_wechat_api_v3_key
        if secret is None:
            return self._dev(self.keyring.api_v3_key, "psp_wechat_api_v3_key")
        key = secret.get_secret_value()
        if len(key.encode("utf-8")) != API_V3_KEY_LENGTH:
            # Caught here, or every notification would fail as "does not decrypt".
            raise PspConfigurationError("EWALLET_PSP_WECHAT_API_V3_KEY must be 32 bytes")
        return key

    def alipay(self) -> AlipayCredentials:
        s = self.settings
        if s.psp_alipay_url and s.psp_alipay_public_key_path is not None:
            alipay_public = read_public_key(s.psp_alipay_public_key_path)
        else:
            alipay_public = self._dev_public(ALIPAY_PLATFORM)
        return AlipayCredentials(
            app_private_key=self.alipay_app_key(), alipay_public_key=alipay_public
        )

    def wechat(self) -> WechatPayCredentials:
        s = self.settings
        if s.psp_wechat_url and s.psp_wechat_platform_key_path is not None:
            platform_public = read_public_key(s.psp_wechat_platform_key_path)
            platform_id = s.psp_wechat_platform_key_id
        else:  # the sandbox's key: in-process, or standalone on the same var_dir
            platform_public = self._dev_public(WECHAT_PLATFORM)
            platform_id = self.wechat_platform_key_id()
            if s.psp_wechat_url and s.psp_wechat_platform_key_id:
                platform_id = s.psp_wechat_platform_key_id
        return WechatPayCredentials(
            merchant_private_key=self.wechat_merchant_key(),
            merchant_serial=self.wechat_merchant_serial(),
            platform_public_key=platform_public,
            platform_key_id=platform_id,
            api_v3_key=self.wechat_api_v3_key(),
        )

    # --- the sandbox's side -----------------------------------------------------------------

    def sandbox_private_key(self, name: str) -> rsa.RSAPrivateKey:
        """The sandbox PSP's own key (``alipay_platform`` / ``wechat_platform``)."""
        return self._dev(lambda: self.keyring.private_key(name), "a sandbox PSP")

    def wechat_platform_key_id(self) -> str:
        public = self.sandbox_private_key(WECHAT_PLATFORM).public_key()
        return PLATFORM_KEY_PREFIX + key_id(public)

    # --- helpers ----------------------------------------------------------------------------

    def _private(self, path: Path | None, dev_name: str) -> rsa.RSAPrivateKey:
        if path is not None:
            return read_private_key(path)
        return self._dev(lambda: self.keyring.private_key(dev_name), dev_name)

    def _dev_public(self, dev_name: str) -> rsa.RSAPublicKey:
        return self.sandbox_private_key(dev_name).public_key()

    def _dev(self, make: Callable[[], T], what: str) -> T:
        if self.production:
            raise PspConfigurationError(f"no development keys in production ({what})")
        return make()
