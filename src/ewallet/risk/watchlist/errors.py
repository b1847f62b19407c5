"""Watch-list refusals, each with its API.md code (the generic ones: no new codes)."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, NotFoundError, ValidationFailedError


class WatchlistFileError(ValidationFailedError):
    """A CSV file that cannot be loaded: the line (1 is the header) and why. Nothing of
    the file is loaded."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class WatchlistHitNotFoundError(NotFoundError):
    """No such watch-list hit."""


class WatchlistHitDecidedError(ConflictError):
    """The hit was cleared or confirmed already (``conflict``)."""
