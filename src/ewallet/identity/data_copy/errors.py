"""Data-copy refusals, each with its code (docs/account-closure.md)."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class DataCopyInProgressError(DomainError):
    """One copy at a time: the last one is still being made (or this one is not ready)."""

    code = "data_copy_in_progress"
    status = 409


class DataCopyExpiredError(DomainError):
    """The copy's download period ended; its documents were deleted."""

    code = "data_copy_expired"
    status = 410
