"""Properties of the rule language, for any input (Hypothesis).

1. Any text either compiles or is refused with RuleSyntaxError -- never another exception,
   never a RecursionError.
2. Any well-typed condition (generated from the grammar) compiles, and evaluating it on
   any values (nulls, wrong types and missing values included) gives exactly what a small
   reference interpreter of the documented semantics gives: a bool, or RuleEvaluationError
   where the reference fails.
3. Nothing is executed: Python-looking text is refused (tests/risk/language/test_syntax.py
   lists the hand-written cases; here, generated ones).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import TypeAlias, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ewallet.risk.rules.language import (
    RuleEvaluationError,
    RuleSyntaxError,
    Value,
    ValueType,
    compile_condition,
)

SCHEMA: Mapping[str, ValueType] = {
    "n1": ValueType.NUMBER,
    "n2": ValueType.NUMBER,
    "t1": ValueType.TEXT,
    "t2": ValueType.TEXT,
    "b1": ValueType.BOOL,
    "b2": ValueType.BOOL,
}
FEATURES = {kind: [n for n, k in SCHEMA.items() if k is kind] for kind in ValueType}

QUICK = settings(max_examples=300, deadline=None)


# -- 1. any text --------------------------------------------------------------------------

# Words, numbers, quotes and symbols, valid or not, separated by spaces.
_WORDS = (
    "amount x __import__ __class__ os lambda import True and or not in is null true false "
    "min max abs sum 0 1 0.8 49999.99 1. .5 1e5 ' \" \\ == != < <= > >= = + - * / ** % ! "
    "( ) [ ] , . : ; { } @ # \x00 金 'a' \"b\" '\\'' \"\\\\\""
)
VOCABULARY = [*SCHEMA, *_WORDS.split(" "), "1" * 31]
tokens_text = st.lists(
    st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(["", " ", "\n"])), max_size=60
).map(lambda pairs: "".join(token + space for token, space in pairs))
nested_text = st.tuples(
    st.integers(0, 40), st.sampled_from(["(", "not ", "-", "abs(", "not ("]), st.booleans()
).map(lambda t: t[1] * t[0] + "1 > 0" + (")" * t[0] if t[2] else ""))


def compiles_or_refuses(source: str) -> None:
    try:
        condition = compile_condition(source, SCHEMA)
    except RuleSyntaxError as error:
        refusal = error
    else:
        assert condition.source == source
        assert condition.features <= set(SCHEMA)
        return
    assert 0 <= refusal.position <= len(source)
    assert refusal.message
    assert str(refusal) == f"{refusal.message} (at position {refusal.position})"


@QUICK
@given(st.text(max_size=300))
def test_any_text_compiles_or_is_refused(source: str) -> None:
    compiles_or_refuses(source)


@QUICK
@given(st.one_of(tokens_text, nested_text))
def test_any_sequence_of_the_languages_tokens_compiles_or_is_refused(source: str) -> None:
    compiles_or_refuses(source)


@settings(max_examples=30, deadline=None)
@given(st.integers(2_001, 5_000), st.sampled_from(["(", "-", "not ", "1 + ", "["]))
def test_oversized_text_is_refused_before_parsing(length: int, unit: str) -> None:
    source = (unit * length)[:length]
    with pytest.raises(RuleSyntaxError, match="at most 2000 characters"):
        compile_condition(source, SCHEMA)


# -- 2. well-typed conditions against a reference interpreter -----------------------------


@dataclass(frozen=True)
class Expr:
    """A generated expression: its source text and how the reference evaluates it."""

    text: str
    run: Callable[[Mapping[str, Value]], object]  # a value, None for null; raises _ReferenceError


class _ReferenceError(Exception):
    """The reference's run-time failure (the implementation must raise RuleEvaluationError)."""


REFERENCE = Context(
    prec=60, rounding=ROUND_HALF_EVEN, Emax=99, Emin=-99,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)  # fmt: skip
Scalar: TypeAlias = Decimal | str | bool


def _checked(operation: Callable[[Decimal, Decimal], Decimal]) -> Callable[..., Decimal]:
    def run(a: Decimal, b: Decimal) -> Decimal:
        try:
            return operation(a, b)
        except ArithmeticError as error:
            raise _ReferenceError from error

    return run


def _divide(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise _ReferenceError
    return _checked(REFERENCE.divide)(a, b)


ARITHMETIC = {
    "+": _checked(REFERENCE.add),
    "-": _checked(REFERENCE.subtract),
    "*": _checked(REFERENCE.multiply),
    "/": _divide,
}
ORDERINGS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
EQUALITIES = {"==": operator.eq, "!=": operator.ne}


def _read(name: str, kind: ValueType) -> Callable[[Mapping[str, Value]], object]:
    def run(values: Mapping[str, Value]) -> object:
        if name not in values:
            raise _ReferenceError
        value = values[name]
        if value is None:
            return None
        if kind is ValueType.NUMBER:
            if isinstance(value, Decimal) and value.is_finite():
                return value
            if isinstance(value, int) and not isinstance(value, bool):
                return Decimal(value)
            raise _ReferenceError
        expected = str if kind is ValueType.TEXT else bool
        if not isinstance(value, expected):
            raise _ReferenceError
        return value

    return run


def _literal_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


numbers = st.one_of(  # negative ones are written -5: a negation, or a negative list item
    st.integers(-(10**6), 10**6).map(Decimal),
    st.decimals(min_value=-(10**12), max_value=10**12, places=2),
    st.integers(-(10**30) + 1, 10**30 - 1).map(Decimal),
)
texts = st.text(max_size=8)
literal_values: dict[ValueType, st.SearchStrategy[Scalar]] = {
    ValueType.NUMBER: numbers,
    ValueType.TEXT: texts,
    ValueType.BOOL: st.booleans(),
}


def _literal(kind: ValueType) -> st.SearchStrategy[Expr]:
    return literal_values[kind].map(lambda v: Expr(_literal_text(v), lambda _values: v))


def _feature(kind: ValueType) -> st.SearchStrategy[Expr]:
    return st.sampled_from(FEATURES[kind]).map(lambda n: Expr(n, _read(n, kind)))


def _arithmetic(op: str, a: Expr, b: Expr) -> Expr:
    def run(values: Mapping[str, Value]) -> object:
        left = a.run(values)
        if left is None:
            return None
        right = b.run(values)
        if right is None:
            return None
        assert isinstance(left, Decimal)
        assert isinstance(right, Decimal)
        return ARITHMETIC[op](left, right)

    return Expr(f"({a.text}) {op} ({b.text})", run)


def _negate(a: Expr) -> Expr:
    def run(values: Mapping[str, Value]) -> object:
        value = a.run(values)
        if value is None:
            return None
        assert isinstance(value, Decimal)
        return _checked(lambda v, _: REFERENCE.minus(v))(value, value)

    return Expr(f"-({a.text})", run)


def _call(function: str, arguments: list[Expr]) -> Expr:
    def run(values: Mapping[str, Value]) -> object:
        results: list[Decimal] = []
        for argument in arguments:
            value = argument.run(values)
            if value is None:
                return None
            assert isinstance(value, Decimal)
            results.append(value)
        if function == "abs":
            return _checked(lambda v, _: REFERENCE.abs(v))(results[0], results[0])
        return min(results) if function == "min" else max(results)

    texts = ", ".join(f"({a.text})" for a in arguments)
    return Expr(f"{function}({texts})", run)


def _compare(op: str, a: Expr, b: Expr) -> Expr:
    compare = cast(Callable[[object, object], bool], {**ORDERINGS, **EQUALITIES}[op])

    def run(values: Mapping[str, Value]) -> object:
        left = a.run(values)
        if left is None:
            return False
        right = b.run(values)
        return right is not None and bool(compare(left, right))

    return Expr(f"({a.text}) {op} ({b.text})", run)


def _member(a: Expr, choices: list[Scalar], *, negated: bool) -> Expr:
    def run(values: Mapping[str, Value]) -> object:
        value = a.run(values)
        if value is None:
            return False
        return (value in choices) is not negated

    listed = ", ".join(_literal_text(c) for c in choices)
    word = "not in" if negated else "in"
    return Expr(f"({a.text}) {word} [{listed}]", run)


def _null_test(a: Expr, *, negated: bool) -> Expr:
    word = "is not null" if negated else "is null"
    return Expr(f"({a.text}) {word}", lambda values: (a.run(values) is None) is not negated)


def _not(a: Expr) -> Expr:
    return Expr(f"not ({a.text})", lambda values: a.run(values) is not True)


def _logical(op: str, a: Expr, b: Expr) -> Expr:
    def run(values: Mapping[str, Value]) -> object:
        first = a.run(values) is True
        if op == "and" and not first:
            return False
        if op == "or" and first:
            return True
        return b.run(values) is True

    return Expr(f"({a.text}) {op} ({b.text})", run)


def expressions(kind: ValueType, depth: int) -> st.SearchStrategy[Expr]:
    leaves = st.one_of(_literal(kind), _feature(kind))
    if depth == 0:
        return leaves

    def sub(k: ValueType) -> st.SearchStrategy[Expr]:
        return expressions(k, depth - 1)

    number, boolean = sub(ValueType.NUMBER), sub(ValueType.BOOL)
    if kind is ValueType.NUMBER:
        return st.one_of(
            leaves,
            st.builds(_arithmetic, st.sampled_from(list(ARITHMETIC)), number, number),
            st.builds(_negate, number),
            st.builds(_call, st.just("abs"), st.lists(number, min_size=1, max_size=1)),
            st.builds(
                _call, st.sampled_from(["min", "max"]), st.lists(number, min_size=2, max_size=4)
            ),
        )
    if kind is ValueType.TEXT:
        return leaves
    comparable = st.sampled_from(list(ValueType)).flatmap(
        lambda k: st.tuples(sub(k), sub(k), st.sampled_from(list(EQUALITIES)))
    )
    member = st.sampled_from(list(ValueType)).flatmap(
        lambda k: st.tuples(sub(k), st.lists(literal_values[k], min_size=1, max_size=5))
    )
    return st.one_of(
        leaves,
        st.builds(_compare, st.sampled_from(list(ORDERINGS)), number, number),
        comparable.map(lambda t: _compare(t[2], t[0], t[1])),
        st.builds(
            lambda pair, negated: _member(pair[0], pair[1], negated=negated), member, st.booleans()
        ),
        st.builds(
            lambda e, negated: _null_test(e, negated=negated),
            st.sampled_from(list(ValueType)).flatmap(sub),
            st.booleans(),
        ),
        st.builds(_not, boolean),
        st.builds(_logical, st.sampled_from(["and", "or"]), boolean, boolean),
    )


ABSENT = object()
feature_values: dict[ValueType, st.SearchStrategy[object]] = {
    ValueType.NUMBER: st.one_of(
        st.integers(-(10**6), 10**6),
        st.integers(-(10**40), 10**40),
        st.decimals(places=2, min_value=-(10**9), max_value=10**9),
        st.decimals(),  # any exponent, NaN and infinities: out of range or not finite
    ),
    ValueType.TEXT: texts,
    ValueType.BOOL: st.booleans(),
}


@st.composite
def values_for_schema(draw: st.DrawFn) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for name, kind in SCHEMA.items():
        choice = draw(st.sampled_from(["typed"] * 6 + ["null", "null", "other", "absent"]))
        if choice == "absent":
            continue
        if choice == "null":
            values[name] = None
        elif choice == "typed":
            values[name] = draw(feature_values[kind])  # type: ignore[assignment]
        else:  # a value of another type: the implementation must fail closed
            other = draw(st.sampled_from([k for k in ValueType if k is not kind]))
            values[name] = draw(st.one_of(feature_values[other], st.just(1.5)))  # type: ignore[assignment]
    return values


@QUICK
@given(expressions(ValueType.BOOL, 3), st.lists(values_for_schema(), min_size=1, max_size=3))
def test_well_typed_conditions_compile_and_evaluate_as_documented(
    expression: Expr, samples: list[dict[str, Value]]
) -> None:
    condition = compile_condition(expression.text, SCHEMA)
    for values in samples:
        try:
            expected = expression.run(values)
        except _ReferenceError:
            with pytest.raises(RuleEvaluationError):
                condition.evaluate(values)
        else:
            assert condition.evaluate(values) is (expected is True)


@QUICK
@given(st.sampled_from([ValueType.NUMBER, ValueType.TEXT]).flatmap(lambda k: expressions(k, 2)))
def test_a_condition_that_is_not_true_or_false_is_refused(expression: Expr) -> None:
    with pytest.raises(RuleSyntaxError, match="must be true or false"):
        compile_condition(expression.text, SCHEMA)


# -- 3. nothing is executed ---------------------------------------------------------------

python_ish = st.builds(
    lambda inner, wrapper: wrapper.format(inner),
    st.sampled_from(["n1", "t1", "1", "'os'", "b1"]),
    st.sampled_from([
        "__import__({0})", "{0}.__class__", "{0}.__class__.__mro__[1]", "lambda: {0}",
        "(lambda x: x)({0})", "eval({0})", "exec({0})", "{0}[0]", "getattr({0}, 'x')",
        "{0} if true else false", "[x for x in {0}]", "{{{0}: 1}}", "{0}; true", "{0} := 1",
        "globals()[{0}]", "open({0}).read()", "{0}.real > 1", "(){0}", "type({0})",
        "print({0})", "{0} ** 2 > 1", "f'{0}'", "not {0}.x", "n1 > 1 and {0}.y",
    ]),
)  # fmt: skip


@QUICK
@given(python_ish)
def test_python_looking_text_is_refused(source: str) -> None:
    with pytest.raises(RuleSyntaxError):
        compile_condition(source, SCHEMA)
