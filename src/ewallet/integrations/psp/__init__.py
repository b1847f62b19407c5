"""Third-party top-up PSPs: Alipay (RSA2) and WeChat Pay (API v3), clients and callbacks.

For the top-up service and the callback endpoints (docs/psp.md):

- ``Services.psp`` is a :class:`PspChannels`: ``start_payment(method=..., out_trade_no=...,
  amount=..., subject=...)`` → :class:`StartedPayment` (``qr_code``, ``pay_url``);
  ``query(...)`` → :class:`PaymentNotice` or None;
- ``verify_alipay_notify(form)`` / ``verify_wechat_notify(headers, body)`` (methods of
  :class:`PspChannels`, or the functions of the same name with explicit keys) → a
  :class:`PaymentNotice`, or :class:`SignatureInvalidError`;
- :func:`alipay_ack` / :func:`wechat_ack` build the answer each PSP expects.

Protocol code (signing, verifying, encryption) lives in :mod:`.alipay` and
:mod:`.wechat_pay`, pure functions tested against the public reference packages.
"""

from ewallet.integrations.psp.alipay import alipay_ack, verify_alipay_notify
from ewallet.integrations.psp.channels import PspChannels, StartedPayment
from ewallet.integrations.psp.errors import (
    PspConfigurationError,
    PspNotConfiguredError,
    PspUnavailableError,
    SignatureInvalidError,
)
from ewallet.integrations.psp.notice import PaymentNotice, PaymentStatus, PspName
from ewallet.integrations.psp.wechat_pay import verify_wechat_notify, wechat_ack

__all__ = [
    "PaymentNotice",
    "PaymentStatus",
    "PspChannels",
    "PspConfigurationError",
    "PspName",
    "PspNotConfiguredError",
    "PspUnavailableError",
    "SignatureInvalidError",
    "StartedPayment",
    "alipay_ack",
    "verify_alipay_notify",
    "verify_wechat_notify",
    "wechat_ack",
]
