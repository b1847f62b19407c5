"""Refusals of the store use cases.

DomainError
└── NotFoundError
    └── StoreNotFoundError   not_found (404): no such store of this merchant
"""

from __future__ import annotations

from ewallet.kit.errors import NotFoundError


class StoreNotFoundError(NotFoundError):
    """Another merchant's store is not found either: its id tells the caller nothing."""
