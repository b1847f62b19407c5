"""A compiled rule condition, and the one function that makes one from its source."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ewallet.risk.rules.language.compiler import compile_tree
from ewallet.risk.rules.language.errors import RuleSyntaxError
from ewallet.risk.rules.language.parser import parse
from ewallet.risk.rules.language.values import Value, ValueType


@dataclass(frozen=True)
class Condition:
    """A condition compiled against a feature schema, ready to be evaluated many times."""

    source: str
    features: frozenset[str]  # every feature name the condition reads
    _test: Callable[[Mapping[str, Value]], bool] = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, Value]) -> bool:
        """Whether the condition holds for ``values`` (feature name to value).

        Raises RuleEvaluationError, and nothing else, when it cannot be decided: a feature
        the condition reads is missing from ``values`` or has a value of the wrong Python
        type, a division by zero, a number out of range.
        """
        return self._test(values)


def compile_condition(source: str, schema: Mapping[str, ValueType]) -> Condition:
    """``source`` parsed and type-checked against ``schema`` (feature name to type).

    Raises RuleSyntaxError, and nothing else, for any text that is not a valid condition.
    """
    if not isinstance(source, str):
        raise RuleSyntaxError("a condition is text", 0)
    compiled = compile_tree(parse(source), schema)
    return Condition(source, compiled.features, compiled.test)
