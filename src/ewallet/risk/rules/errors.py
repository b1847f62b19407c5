"""The rule editor's refusals (codes from API.md)."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, NotFoundError, ValidationFailedError


class RuleSetNotFoundError(NotFoundError):
    """``not_found``: no rule set of that version."""


class RuleNotFoundError(NotFoundError):
    """``not_found``: the rule set has no rule of that name."""


class DecisionNotFoundError(NotFoundError):
    """``not_found``: no such risk decision."""


class RuleSetNotDraftError(ConflictError):
    """``conflict``: only a draft is edited or activated; an active or retired set never
    changes (``state`` says which it is)."""


class RuleConditionError(ValidationFailedError):
    """``validation_error`` for a condition that does not compile: extra members ``rule``
    (its name) and ``position`` (the 0-based offset the editor points at)."""
