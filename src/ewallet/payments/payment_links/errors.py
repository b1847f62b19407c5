"""Refusals of the payment-link use cases (with the shared payments refusals,
:mod:`ewallet.payments.errors`)."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class PaymentLinkUnavailableError(DomainError):
    """``payment_link_unavailable`` (410): the link was disabled, has expired or has made as
    many orders as it may. Nothing is made; the ``reason`` member says which."""

    code = "payment_link_unavailable"
    status = 410
