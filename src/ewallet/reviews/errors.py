"""The review queue's refusals (codes from API.md)."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, NotFoundError


class ReviewNotFoundError(NotFoundError):
    """``not_found``: no review of that id."""


class ReviewDecidedError(ConflictError):
    """``conflict``: the review is no longer open -- approved or rejected already, by this
    request's twin or by someone else (member ``state`` says which)."""
