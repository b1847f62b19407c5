"""Errors of the PSP adapters, in the wallet's one error tree.

    DomainError
    ├── SignatureInvalidError          signature_invalid (401): a notify or response that does
    │                                  not verify, is stale, is for another app/merchant, or
    │                                  does not match the order it names
    └── UpstreamUnavailableError
        ├── PspUnavailableError        upstream_unavailable (503): PSP unreachable, timed out,
        │                              or answered something we cannot use
        └── PspNotConfiguredError      upstream_unavailable (503): the channel is off here

A callback endpoint never lets :class:`SignatureInvalidError` reach the problem handler:
each PSP expects its own answer (``alipay_ack`` / ``wechat_ack``), not problem+json.
"""

from __future__ import annotations

from ewallet.kit.errors import DomainError, UpstreamUnavailableError


class SignatureInvalidError(DomainError):
    code = "signature_invalid"
    status = 401


class PspUnavailableError(UpstreamUnavailableError):
    """The PSP call did not give a usable answer; no payment was started."""


class PspNotConfiguredError(UpstreamUnavailableError):
    """This deployment has no credentials for the channel (production without its URL)."""


class PspConfigurationError(RuntimeError):
    """Settings that cannot work (e.g. a PSP URL in production without its keys): stop start-up."""
