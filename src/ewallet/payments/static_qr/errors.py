"""Refusals of the static-QR use cases (codes from API.md).

DomainError
├── NotFoundError
│   └── StaticQrNotFoundError   not_found (404): unknown token, a regenerated (retired)
│                               code, a disabled store's code, another merchant's code
└── ValidationFailedError
    └── StaticQrAmountError     validation_error (422): no amount for an open-amount code,
                                or another amount than a fixed-amount code's
"""

from __future__ import annotations

from ewallet.kit.errors import NotFoundError, ValidationFailedError


class StaticQrNotFoundError(NotFoundError):
    """A printed code that does not pay (any more): the same answer for every reason, so a
    token tells a prober nothing."""


class StaticQrAmountError(ValidationFailedError):
    pass
