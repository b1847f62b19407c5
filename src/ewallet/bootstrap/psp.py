"""The PSP channels from the settings, and development's in-process sandbox PSPs.

In development a PSP whose URL is unset is served by the API process itself: the sandbox
Alipay and WeChat Pay are mounted at ``/sandbox/alipay`` and ``/sandbox/wechat-pay``
(:func:`mount_psp_sandboxes`, kept on ``app.state.psp_sandboxes``), their notifications go
straight into the wallet app, and the channels reach them over an ASGI transport. The CLI
and ``ewallet worker`` have no app to serve them: there such a PSP is not configured.
Production never mounts a sandbox (docs/psp.md).
"""

from __future__ import annotations

from fastapi import FastAPI

from ewallet.config import Settings
from ewallet.integrations.psp.channels import InProcessPsp, PspChannels
from ewallet.integrations.psp.notice import PspName
from ewallet.kit.clock import Clock
from ewallet.sandbox.psp import InProcessSandboxes
from ewallet.sandbox.psp import mount_psp_sandboxes as mount_sandboxes
from ewallet.sandbox.psp.embedded import ALIPAY_MOUNT, WECHAT_MOUNT


def mount_psp_sandboxes(app: FastAPI, settings: Settings) -> InProcessSandboxes:
    """Mount a sandbox for each PSP whose URL is unset (none in production)."""
    sandboxes = mount_sandboxes(app, settings, clock=app.state.clock)
    app.state.psp_sandboxes = sandboxes
    return sandboxes


def app_psp_sandboxes(app: FastAPI | None) -> InProcessSandboxes | None:
    """The sandboxes mounted on ``app`` (None without an app or before mounting)."""
    if app is None:
        return None
    sandboxes: InProcessSandboxes | None = getattr(app.state, "psp_sandboxes", None)
    return sandboxes


def psp_channels(settings: Settings, clock: Clock, *, app: FastAPI | None = None) -> PspChannels:
    """The channels for ``settings``, through the PSPs mounted on ``app`` where no URL is set.

    Raises ``PspConfigurationError`` in production when a configured PSP lacks a key setting.
    """
    in_process: dict[PspName, InProcessPsp] = {}
    if (sandboxes := app_psp_sandboxes(app)) is not None:
        if sandboxes.alipay is not None:
            in_process["alipay"] = InProcessPsp(sandboxes.alipay.app, ALIPAY_MOUNT)
        if sandboxes.wechat_pay is not None:
            in_process["wechat_pay"] = InProcessPsp(sandboxes.wechat_pay.app, WECHAT_MOUNT)
    return PspChannels.from_settings(settings, clock=clock, in_process=in_process)
