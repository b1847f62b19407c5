"""What compile_condition refuses, with which message and where it points."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping

import pytest

from ewallet.risk.rules.language import RuleSyntaxError, ValueType, compile_condition

SCHEMA: Mapping[str, ValueType] = {
    "amount": ValueType.NUMBER,
    "device_age_hours": ValueType.NUMBER,
    "user_transfer_count_1h": ValueType.NUMBER,
    "channel": ValueType.TEXT,
    "is_new_payee": ValueType.BOOL,
}


def refusal(source: str) -> RuleSyntaxError:
    with pytest.raises(RuleSyntaxError) as caught:
        compile_condition(source, SCHEMA)
    return caught.value


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        # the text itself
        ("", 0, "the condition is empty"),
        (" \n\t ", 0, "the condition is empty"),
        ("amount > 5 $", 11, "unexpected character '$'"),
        ("amount > 5\x00", 10, "unexpected character U+0000"),
        ("amount > ５", 9, "unexpected character '５'"),
        ("Amount > 5", 0, "written in lower case"),
        ("amount > 5 AND true", 11, "written in lower case"),
        ("amount = 5", 7, "compare with '=='"),
        ("!is_new_payee", 0, "use 'not' or '!='"),
        ("is_new_payee && true", 13, "use 'and'"),
        ("is_new_payee || true", 13, "use 'or'"),
        ("amount % 2 == 0", 7, "'%' is not an operator"),
        ("amount > 5 # large", 11, "no comments"),
        ("amount > 1.", 11, "a decimal point must be followed by digits"),
        ("amount > 1.5.2", 12, "'.' cannot follow a number"),
        ("amount > 1e5", 10, "'e' cannot follow a number"),
        ("amount > 5000x", 13, "'x' cannot follow a number"),
        ("amount > .5", 9, "'.' is only allowed inside a number"),
        ("channel == 'abc", 11, "this string is never closed"),
        ('channel == "abc\\"', 11, "this string is never closed"),
        ("channel == 'a\\nb'", 13, "only \\\\, \\' and \\\" may follow a backslash"),
        ("channel == 'a\\", 11, "this string is never closed"),
        # grammar
        ("amount >", 8, "the condition ends where a value was expected"),
        ("amount > > 5", 9, "expected a value, found '>'"),
        ("amount > 5 6", 11, "unexpected '6' after a complete condition"),
        ("amount > 5 is_new_payee", 11, "unexpected 'is_new_payee' after a complete condition"),
        ("(amount > 5", 11, "expected ')' to close the '(' at position 0"),
        ("amount > 5)", 10, "unexpected ')' after a complete condition"),
        ("()", 1, "expected a value, found ')'"),
        ("amount < 5 < 7", 11, "comparisons cannot be chained"),
        ("1 == 1 == true", 7, "comparisons cannot be chained"),
        ("amount > 5 is null", 11, "comparisons cannot be chained"),
        ("channel in ['a'] in ['b']", 17, "comparisons cannot be chained"),
        ("amount not > 5", 7, "'not' here must be followed by 'in'"),
        ("amount is 5", 10, "expected 'null' after 'is', found '5'"),
        ("amount is not 5", 14, "expected 'null' after 'is not'"),
        ("amount == null", 10, "null is tested with 'is null'"),
        ("null", 0, "null is tested with 'is null'"),
        ("channel in 'abc'", 11, "expected a list like"),
        ("channel in channel", 11, "expected a list like"),
        ("channel in []", 11, "a list needs at least one item"),
        ("channel in ['a',]", 16, "a list holds only numbers, strings, true or false"),
        ("channel in ['a' 'b']", 16, "expected ']' to close the list opened at position 11"),
        ("channel in [channel]", 12, "a list holds only numbers, strings, true or false"),
        ("amount in [1 + 1]", 13, "expected ']' to close the list"),
        ("amount in [-'a']", 11, "a list holds only"),
        ("['a'] == ['a']", 0, "a list may only follow 'in' or 'not in'"),
        ("amount[0] > 1", 6, "there is no indexing"),
        ("amount() > 1", 0, "unknown function 'amount'"),
        ("sum(amount, 1) > 1", 0, "unknown function 'sum'"),
        ("__import__('os')", 0, "unknown function '__import__'"),
        ("min(amount) > 1", 0, "min() takes at least two arguments"),
        ("max() > 1", 0, "max() takes at least two arguments"),
        ("abs(amount, 1) > 1", 0, "abs() takes exactly one argument"),
        ("min(amount, ) > 1", 12, "expected a value, found ')'"),
        ("min(amount 1) > 1", 11, "expected ')' to close the call of min()"),
        # names and types
        ("amout > 5", 0, "unknown feature 'amout' (did you mean 'amount'?)"),
        ("amount > 5 and xyzzy", 15, "unknown feature 'xyzzy'"),
        ("min > 5", 0, "'min' is a function: call it like min(...)"),
        ("amount", 0, "a condition must be true or false, but this is a number"),
        ("channel", 0, "a condition must be true or false, but this is text"),
        ("amount + 1", 0, "must be true or false"),
        ("channel > 'a'", 0, "'>' takes numbers, but this is text"),
        ("1 <= channel", 5, "'<=' takes numbers, but this is text"),
        ("amount + channel > 1", 9, "'+' takes numbers, but this is text"),
        ("amount * true > 1", 9, "'*' takes numbers, but this is true/false"),
        ("-channel == 'a'", 1, "'-' takes numbers, but this is text"),
        ("abs(channel) > 1", 4, "abs() takes numbers, but this is text"),
        ("max(1, is_new_payee) > 1", 7, "max() takes numbers"),
        ("amount == 'a'", 7, "'==' compares values of one type"),
        ("is_new_payee != 1", 13, "the left side is true/false and the right side is a number"),
        ("channel in ['a', 1]", 17, "the left side of 'in' is text, but this item is a number"),
        ("amount not in [1, 'b']", 18, "the left side of 'not in' is a number"),
        ("amount and true", 0, "'and' takes conditions (true or false), but this is a number"),
        ("true or channel", 8, "'or' takes conditions"),
        ("not amount", 4, "'not' takes conditions"),
        ("(amount > 1) + 1 > 0", 1, "'+' takes numbers, but this is true/false"),
    ],
)
def test_each_refusal_names_its_cause_and_position(
    source: str, position: int, message: str
) -> None:
    error = refusal(source)
    assert message in error.message
    assert error.position == position
    assert str(error) == f"{error.message} (at position {position})"
    assert isinstance(error, ValueError)


def test_an_unknown_name_suggests_nothing_when_nothing_is_close() -> None:
    assert refusal("zzz > 1").message == "unknown feature 'zzz'"


def test_keywords_are_reserved() -> None:
    # A schema entry named like a keyword is simply unreachable.
    schema = {"in": ValueType.BOOL, "amount": ValueType.NUMBER}
    with pytest.raises(RuleSyntaxError, match="expected a value, found 'in'"):
        compile_condition("in", schema)


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "amount.__class__",
        "amount.__class__.__mro__",
        "lambda: true",
        "lambda x: x",
        "(lambda: 1)()",
        "exec('1')",
        "eval('1 == 1')",
        "open('/etc/passwd')",
        "amount if true else false",
        "amount := 5",
        "x = 1",
        "[c for c in channel]",
        "channel[0] == 'a'",
        "getattr(amount, 'real') > 1",
        "f'{amount}' == 'a'",
        "true; import os",
        "{'a': 1}",
        "amount ** 2 > 1",
        "amount // 2 > 1",
        "print(1)",
        "`amount`",
        "@amount",
    ],
)
def test_python_is_not_executed_or_even_accepted(source: str) -> None:
    refusal(source)


def test_the_limits_are_refused_with_clear_messages() -> None:
    long = "amount > 1 and " * 140 + "true"
    assert len(long) > 2_000
    error = refusal(long)
    assert (error.message, error.position) == ("a condition has at most 2000 characters", 2000)

    deep = "(" * 33 + "true" + ")" * 33
    assert refusal(deep).message == "a condition nests at most 32 levels deep"
    assert compile_condition("(" * 32 + "true" + ")" * 32, SCHEMA).evaluate({}) is True
    assert refusal("not " * 33 + "true").message == "a condition nests at most 32 levels deep"
    assert compile_condition("not " * 32 + "true", SCHEMA).evaluate({}) is True
    assert refusal("-" * 33 + "1 > 0").message == "a condition nests at most 32 levels deep"
    nested_calls = "abs(" * 33 + "1" + ")" * 33 + " > 0"
    assert refusal(nested_calls).message == "a condition nests at most 32 levels deep"

    many = " + ".join(["1"] * 251) + " > 0"
    assert len(many) <= 2_000
    error = refusal(many)
    assert error.message == "a condition has at most 500 names, values and operators"
    assert compile_condition(" + ".join(["1"] * 249) + " > 0", SCHEMA).evaluate({}) is True

    items = ", ".join(["1"] * 201)
    assert refusal(f"amount in [{items}]").message == "a list has at most 200 items"
    allowed = ", ".join(str(i) for i in range(200))
    condition = compile_condition(f"amount in [{allowed}]", SCHEMA)
    assert condition.evaluate({"amount": 199}) is True

    digits = "1" * 31
    assert refusal(f"amount > {digits}").message == "a number has at most 30 digits"
    assert refusal(f"amount > 0.{digits}").message == "a number has at most 30 digits"
    assert compile_condition(f"amount < {'9' * 30}", SCHEMA).evaluate({"amount": 1}) is True


def test_the_deepest_mix_within_the_limits_compiles_and_evaluates() -> None:
    # 10 x (not + parenthesis) + 5 x unary minus + 6 x abs(): 31 levels.
    source = "not (" * 10 + "-" * 5 + "abs(" * 6 + "1" + ")" * 6 + " > 0" + ")" * 10
    assert compile_condition(source, SCHEMA).evaluate({}) is False
    # A long flat chain is one node with many operands, not a deep tree.
    chain = " and ".join(["is_new_payee"] * 110)
    assert compile_condition(chain, SCHEMA).evaluate({"is_new_payee": True}) is True


@pytest.mark.parametrize(
    "source",
    [
        "(" * 32 + "amount > 0" + ")" * 32,
        "abs(" * 32 + "amount" + ")" * 32 + " > 0",
        "min(1, " * 32 + "amount" + ")" * 32 + " > 0",
        "not (" * 16 + "amount > 0" + ")" * 16,
        "-" * 32 + "amount > 0",
    ],
)
def test_the_deepest_conditions_need_little_stack(source: str) -> None:
    # Each nesting level costs a few frames, not one per precedence level: the deepest
    # condition compiles and evaluates within 200 frames of wherever it is called from.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 200)
    try:
        condition = compile_condition(source, SCHEMA)
        condition.evaluate({"amount": 1})
        condition.evaluate({"amount": None})
    finally:
        sys.setrecursionlimit(limit)
