"""Sandbox PSPs: an Alipay-like and a WeChat Pay v3-like server for development and tests.

Each is a small Starlette app (``.app``) with its state in memory: it verifies the
wallet's signed requests, answers signed, shows a pay page, and, once an order is paid,
sends the signed (for WeChat Pay also encrypted) notification, retrying until the wallet
acknowledges it. See docs/psp.md.
"""

from ewallet.sandbox.psp.alipay import AlipaySandbox, AlipaySandboxCredentials
from ewallet.sandbox.psp.delivery import DEV_RETRY_DELAYS, DeliveryAttempt, NotifyDelivery
from ewallet.sandbox.psp.embedded import (
    ALIPAY_MOUNT,
    WECHAT_MOUNT,
    InProcessSandboxes,
    alipay_sandbox,
    mount_psp_sandboxes,
    wechat_pay_sandbox,
)
from ewallet.sandbox.psp.wechat_pay import (
    SandboxMerchant,
    WechatPaySandbox,
    WechatPaySandboxCredentials,
)

__all__ = [
    "ALIPAY_MOUNT",
    "DEV_RETRY_DELAYS",
    "WECHAT_MOUNT",
    "AlipaySandbox",
    "AlipaySandboxCredentials",
    "DeliveryAttempt",
    "InProcessSandboxes",
    "NotifyDelivery",
    "SandboxMerchant",
    "WechatPaySandbox",
    "WechatPaySandboxCredentials",
    "alipay_sandbox",
    "mount_psp_sandboxes",
    "wechat_pay_sandbox",
]
