"""Type-check a syntax tree against the feature schema and turn it into closures.

One pass over the tree does both: each node becomes a small function of the feature
values, built once, so evaluating a condition never looks at its text or its tree again.
A node's function returns its value, or None for null (see docs/risk-rules.md, "The rule
language", for the null rules); numbers are Decimals, computed in :data:`ARITHMETIC`.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Final, TypeAlias, cast

from ewallet.risk.rules.language.errors import RuleEvaluationError, RuleSyntaxError
from ewallet.risk.rules.language.parser import FUNCTIONS
from ewallet.risk.rules.language.syntax import (
    Arithmetic,
    BoolLiteral,
    Call,
    Compare,
    Feature,
    Logical,
    Membership,
    Negate,
    Node,
    Not,
    NullTest,
    NumberLiteral,
    TextLiteral,
)
from ewallet.risk.rules.language.values import Value, ValueType

# Sixty significant digits keep any sum or product of features and 30-digit literals
# exact; a result of 10^100 or more is an error rather than a rounded guess.
ARITHMETIC: Final = Context(
    prec=60,
    rounding=ROUND_HALF_EVEN,
    Emax=99,
    Emin=-99,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

Values: TypeAlias = Mapping[str, Value]
Scalar: TypeAlias = Decimal | str | bool
Evaluator: TypeAlias = Callable[[Values], Scalar | None]
NumberEvaluator: TypeAlias = Callable[[Values], Decimal | None]
BoolEvaluator: TypeAlias = Callable[[Values], bool | None]

_ORDERINGS: Final[dict[str, Callable[[Decimal, Decimal], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_EQUALITIES: Final[dict[str, Callable[[object, object], bool]]] = {
    "==": operator.eq,
    "!=": operator.ne,
}
# With finite operands and no zero divisor, the range is all that can fail.
_OUT_OF_RANGE: Final = "a number went out of range (10^100 or more)"


def _divide(dividend: Decimal, divisor: Decimal) -> Decimal:
    if not divisor:
        raise RuleEvaluationError("division by zero")
    return ARITHMETIC.divide(dividend, divisor)


_ARITHMETIC_OPERATIONS: Final[dict[str, Callable[[Decimal, Decimal], Decimal]]] = {
    "+": ARITHMETIC.add,
    "-": ARITHMETIC.subtract,
    "*": ARITHMETIC.multiply,
    "/": _divide,
}
_NAMES: Final = {ValueType.NUMBER: "a number", ValueType.TEXT: "text", ValueType.BOOL: "true/false"}


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled condition: the function deciding it and the features it reads."""

    test: Callable[[Values], bool]
    features: frozenset[str]


def compile_tree(tree: Node, schema: Mapping[str, ValueType]) -> Compiled:
    """``tree`` checked against ``schema`` and compiled; RuleSyntaxError on a type error."""
    compiler = _Compiler(schema)
    kind, run = compiler.node(tree)
    if kind is not ValueType.BOOL:
        raise RuleSyntaxError(
            f"a condition must be true or false, but this is {_NAMES[kind]}", tree.start
        )
    boolean = cast(BoolEvaluator, run)

    def test(values: Values) -> bool:
        return boolean(values) is True

    return Compiled(test, frozenset(compiler.features))


class _Compiler:
    def __init__(self, schema: Mapping[str, ValueType]) -> None:
        self._schema = schema
        self.features: set[str] = set()

    def node(self, node: Node) -> tuple[ValueType, Evaluator]:  # noqa: PLR0911 -- one case per node
        match node:
            case NumberLiteral(value=value):
                return ValueType.NUMBER, _constant(value)
            case TextLiteral(value=text):
                return ValueType.TEXT, _constant(text)
            case BoolLiteral(value=flag):
                return ValueType.BOOL, _constant(flag)
            case Negate(operand=NumberLiteral(value=value)):
                return ValueType.NUMBER, _constant(value.copy_negate())
            case Feature():
                return self._feature(node)
            case Call() | Negate() | Arithmetic():
                return ValueType.NUMBER, self._numeric(node)
            case Compare():
                return ValueType.BOOL, self._compare(node)
            case Membership():
                return ValueType.BOOL, self._membership(node)
            case NullTest(negated=negated, operand=operand):
                _, run = self.node(operand)
                return ValueType.BOOL, _null_test(run, negated=negated)
            case Not(operand=operand):
                inner = self._boolean(operand, "'not'")
                return ValueType.BOOL, lambda values: inner(values) is not True
            case Logical():
                return ValueType.BOOL, self._logical(node)

    # -- names --------------------------------------------------------------------------

    def _feature(self, node: Feature) -> tuple[ValueType, Evaluator]:
        declared = self._schema.get(node.name)
        if declared is None:
            raise RuleSyntaxError(self._unknown(node.name), node.start)
        kind = ValueType(declared)  # a schema may give the plain strings "number", ...
        self.features.add(node.name)
        return kind, _reader(node.name, kind)

    def _unknown(self, name: str) -> str:
        if name in FUNCTIONS:
            return f"'{name}' is a function: call it like {name}(...)"
        message = f"unknown feature '{name}'"
        close = difflib.get_close_matches(name, sorted(self._schema), n=1, cutoff=0.6)
        if close:
            message += f" (did you mean '{close[0]}'?)"
        return message

    # -- typed operands -----------------------------------------------------------------

    def _number(self, node: Node, where: str) -> NumberEvaluator:
        kind, run = self.node(node)
        if kind is not ValueType.NUMBER:
            raise RuleSyntaxError(f"{where} takes numbers, but this is {_NAMES[kind]}", node.start)
        return cast(NumberEvaluator, run)

    def _boolean(self, node: Node, where: str) -> BoolEvaluator:
        kind, run = self.node(node)
        if kind is not ValueType.BOOL:
            raise RuleSyntaxError(
                f"{where} takes conditions (true or false), but this is {_NAMES[kind]}",
                node.start,
            )
        return cast(BoolEvaluator, run)

    # -- numbers ------------------------------------------------------------------------

    def _numeric(self, node: Call | Negate | Arithmetic) -> NumberEvaluator:
        if isinstance(node, Negate):
            return _negate(self._number(node.operand, "'-'"))
        if isinstance(node, Call):
            arguments = tuple(self._number(a, f"{node.function}()") for a in node.arguments)
            return _call(node.function, arguments)
        first = self._number(node.first, f"'{node.rest[0][0]}'")
        steps = tuple(
            (_ARITHMETIC_OPERATIONS[symbol], self._number(operand, f"'{symbol}'"))
            for symbol, _, operand in node.rest
        )
        return _arithmetic(first, steps)

    # -- comparisons --------------------------------------------------------------------

    def _compare(self, node: Compare) -> BoolEvaluator:
        symbol = node.operator
        if symbol in _ORDERINGS:
            left = self._number(node.left, f"'{symbol}'")
            right = self._number(node.right, f"'{symbol}'")
            return _comparison(_ORDERINGS[symbol], left, right, _literal_of(node.right))
        left_kind, left_run = self.node(node.left)
        right_kind, right_run = self.node(node.right)
        if left_kind is not right_kind:
            raise RuleSyntaxError(
                f"'{symbol}' compares values of one type, but the left side is "
                f"{_NAMES[left_kind]} and the right side is {_NAMES[right_kind]}",
                node.operator_start,
            )
        return _comparison(_EQUALITIES[symbol], left_run, right_run, _literal_of(node.right))

    def _membership(self, node: Membership) -> BoolEvaluator:
        kind, left = self.node(node.left)
        word = "'not in'" if node.negated else "'in'"
        choices: set[Scalar] = set()
        for item in node.choices.items:
            item_kind, _ = self.node(item)
            if item_kind is not kind:
                raise RuleSyntaxError(
                    f"the left side of {word} is {_NAMES[kind]}, but this item is "
                    f"{_NAMES[item_kind]}",
                    item.start,
                )
            choices.add(item.value)
        return _member(left, frozenset(choices), negated=node.negated)

    def _logical(self, node: Logical) -> BoolEvaluator:
        parts = tuple(self._boolean(p, f"'{node.operator}'") for p in node.operands)
        return _all(parts) if node.operator == "and" else _any(parts)


# -- the closures -----------------------------------------------------------------------


def _constant(value: Scalar) -> Evaluator:
    return lambda _values: value


def _literal_of(node: Node) -> Scalar | None:
    """A literal's value, so a comparison with it skips a call per evaluation."""
    if isinstance(node, NumberLiteral | TextLiteral | BoolLiteral):
        return node.value
    if isinstance(node, Negate) and isinstance(node.operand, NumberLiteral):
        return node.operand.value.copy_negate()
    return None


def _reader(name: str, kind: ValueType) -> Evaluator:
    def fetch(values: Values) -> Value:
        try:
            return values[name]
        except KeyError:
            raise RuleEvaluationError(f"no value was given for feature '{name}'") from None

    def wrong(value: Value) -> RuleEvaluationError:
        return RuleEvaluationError(
            f"feature '{name}' is declared {kind.value} but its value is a {type(value).__name__}"
        )

    def number(values: Values) -> Decimal | None:
        value = fetch(values)
        if value is None:
            return None
        if isinstance(value, Decimal):
            if value.is_finite():
                return value
            raise RuleEvaluationError(f"feature '{name}' is not a finite number: {value}")
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        raise wrong(value)

    def text(values: Values) -> str | None:
        value = fetch(values)
        if value is None or isinstance(value, str):
            return value
        raise wrong(value)

    def boolean(values: Values) -> bool | None:
        value = fetch(values)
        if value is None or isinstance(value, bool):
            return value
        raise wrong(value)

    readers: dict[ValueType, Evaluator] = {
        ValueType.NUMBER: number,
        ValueType.TEXT: text,
        ValueType.BOOL: boolean,
    }
    return readers[kind]


def _arithmetic(
    first: NumberEvaluator,
    steps: tuple[tuple[Callable[[Decimal, Decimal], Decimal], NumberEvaluator], ...],
) -> NumberEvaluator:
    def run(values: Values) -> Decimal | None:
        total = first(values)
        if total is None:
            return None
        for operation, operand in steps:
            value = operand(values)
            if value is None:
                return None
            try:
                total = operation(total, value)
            except ArithmeticError:
                raise RuleEvaluationError(_OUT_OF_RANGE) from None
        return total

    return run


def _negate(operand: NumberEvaluator) -> NumberEvaluator:
    def run(values: Values) -> Decimal | None:
        value = operand(values)
        if value is None:
            return None
        try:
            return ARITHMETIC.minus(value)
        except ArithmeticError:
            raise RuleEvaluationError(_OUT_OF_RANGE) from None

    return run


def _call(function: str, arguments: tuple[NumberEvaluator, ...]) -> NumberEvaluator:
    def run(values: Values) -> Decimal | None:
        numbers: list[Decimal] = []
        for argument in arguments:
            value = argument(values)
            if value is None:
                return None
            numbers.append(value)
        if function == "min":
            return min(numbers)
        if function == "max":
            return max(numbers)
        try:
            return ARITHMETIC.abs(numbers[0])
        except ArithmeticError:
            raise RuleEvaluationError(_OUT_OF_RANGE) from None

    return run


def _comparison(
    compare: Callable[[Decimal, Decimal], bool] | Callable[[object, object], bool],
    left: Evaluator,
    right: Evaluator,
    literal: Scalar | None,
) -> BoolEvaluator:
    test = cast(Callable[[object, object], bool], compare)
    if literal is not None:

        def against_literal(values: Values) -> bool:
            value = left(values)
            return value is not None and test(value, literal)

        return against_literal

    def both_sides(values: Values) -> bool:
        first = left(values)
        if first is None:
            return False
        second = right(values)
        return second is not None and test(first, second)

    return both_sides


def _member(left: Evaluator, choices: frozenset[Scalar], *, negated: bool) -> BoolEvaluator:
    def run(values: Values) -> bool:
        value = left(values)
        return value is not None and (value in choices) is not negated

    return run


def _null_test(operand: Evaluator, *, negated: bool) -> BoolEvaluator:
    def run(values: Values) -> bool:
        return (operand(values) is None) is not negated

    return run


def _all(parts: tuple[BoolEvaluator, ...]) -> BoolEvaluator:
    def run(values: Values) -> bool:
        return all(part(values) is True for part in parts)

    return run


def _any(parts: tuple[BoolEvaluator, ...]) -> BoolEvaluator:
    def run(values: Values) -> bool:
        return any(part(values) is True for part in parts)

    return run
