"""The two ways a rule condition fails: when it is written, and when it runs."""

from __future__ import annotations


class RuleSyntaxError(ValueError):
    """A condition that cannot be compiled: bad syntax, a type error or a limit exceeded.

    ``position`` is the 0-based offset in the source the rule editor should point at;
    ``message`` says what is wrong in plain English, without the position.
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (at position {self.position})"


class RuleEvaluationError(Exception):
    """A compiled condition that could not be decided on the values it was given.

    Division by zero, a number too large, a declared feature missing from the values or a
    value of the wrong Python type. The decision engine treats it as "fail closed".
    """
