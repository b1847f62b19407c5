"""The risk rules' expression language: small, typed, parsed -- never ``eval``.

Compliance staff write a rule's condition as text, for example
``amount >= 5000 and is_new_payee and hours_since_password_reset < 24``;
:func:`compile_condition` parses it, checks it against the declared features' types and
compiles it once into closures; :meth:`Condition.evaluate` then decides it for one
movement's feature values. The language is described in docs/risk-rules.md ("The rule
language"). Nothing here does I/O.

Exceptions::

    ValueError
    └── RuleSyntaxError      compile_condition: bad syntax, a type error, a limit exceeded
    Exception
    └── RuleEvaluationError  Condition.evaluate: division by zero, a number out of range,
                             a missing value or a value of the wrong Python type
"""

from ewallet.risk.rules.language.condition import Condition, compile_condition
from ewallet.risk.rules.language.errors import RuleEvaluationError, RuleSyntaxError
from ewallet.risk.rules.language.values import Value, ValueType

__all__ = [
    "Condition",
    "RuleEvaluationError",
    "RuleSyntaxError",
    "Value",
    "ValueType",
    "compile_condition",
]
