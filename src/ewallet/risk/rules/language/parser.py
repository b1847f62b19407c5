"""The rule language's parser: tokens to a syntax tree, by precedence climbing.

Precedence, loosest first: ``or``, ``and``, ``not``, a comparison (``== != < <= > >=``,
``in``, ``not in``, ``is null``, ``is not null``; never chained), ``+ -``, ``* /``, unary
``-``, then a literal, a feature, a call or a parenthesised condition. The limits below are
checked while parsing, so no input can make the parser (or the compiler after it) recurse
deeply or build a large tree.
"""

from __future__ import annotations

from typing import Final

from ewallet.risk.rules.language.errors import RuleSyntaxError
from ewallet.risk.rules.language.lexer import Token, TokenKind, tokenize
from ewallet.risk.rules.language.syntax import (
    Arithmetic,
    BoolLiteral,
    Call,
    Compare,
    Feature,
    ListLiteral,
    Literal,
    Logical,
    Membership,
    Negate,
    Node,
    Not,
    NullTest,
    NumberLiteral,
    TextLiteral,
)

MAX_SOURCE_LENGTH: Final = 2_000
MAX_DEPTH: Final = 32
MAX_NODES: Final = 500
MAX_LIST_ITEMS: Final = 200

FUNCTIONS: Final = ("abs", "max", "min")

_COMPARISONS: Final = frozenset({"==", "!=", "<", "<=", ">", ">="})

# Precedence levels, loosest first; an operand of level L is an expression of level L or tighter.
_OR, _AND, _NOT, _COMPARISON, _SUM, _PRODUCT, _UNARY = range(7)


def parse(source: str) -> Node:
    """The syntax tree of ``source``; RuleSyntaxError for anything else."""
    if len(source) > MAX_SOURCE_LENGTH:
        raise RuleSyntaxError(
            f"a condition has at most {MAX_SOURCE_LENGTH} characters", MAX_SOURCE_LENGTH
        )
    if not source.strip(" \t\r\n"):
        raise RuleSyntaxError("the condition is empty", 0)
    return _Parser(tokenize(source)).condition()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._depth = 0
        self._nodes = 0

    # -- helpers ------------------------------------------------------------------------

    @property
    def _token(self) -> Token:
        return self._tokens[self._index]

    def _peek(self, offset: int = 1) -> Token:
        return self._tokens[min(self._index + offset, len(self._tokens) - 1)]

    def _is(self, kind: TokenKind, text: str) -> bool:
        token = self._token
        return token.kind is kind and token.text == text

    def _keyword(self, word: str) -> bool:
        return self._is(TokenKind.KEYWORD, word)

    def _symbol(self, symbol: str) -> bool:
        return self._is(TokenKind.SYMBOL, symbol)

    def _advance(self) -> Token:
        token = self._token
        self._index += 1
        return token

    def _expect_symbol(self, symbol: str, context: str) -> Token:
        if not self._symbol(symbol):
            raise RuleSyntaxError(
                f"expected '{symbol}' {context}, found {self._token.describe()}",
                self._token.position,
            )
        return self._advance()

    def _count(self, position: int) -> None:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise RuleSyntaxError(
                f"a condition has at most {MAX_NODES} names, values and operators", position
            )

    def _enter(self, position: int) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise RuleSyntaxError(f"a condition nests at most {MAX_DEPTH} levels deep", position)

    def _leave(self) -> None:
        self._depth -= 1

    # -- grammar ------------------------------------------------------------------------

    def condition(self) -> Node:
        node = self._expression(_OR)
        token = self._token
        if token.kind is TokenKind.SYMBOL and token.text == "[":
            raise RuleSyntaxError(
                "there is no indexing: '[' only starts a list after 'in'", token.position
            )
        if token.kind is not TokenKind.END:
            raise RuleSyntaxError(
                f"unexpected {token.describe()} after a complete condition "
                "(missing 'and' or 'or'?)",
                token.position,
            )
        return node

    def _expression(self, level: int) -> Node:
        """An expression of ``level`` or tighter (``_OR`` for a whole condition).

        Precedence climbing: one call per nesting level rather than one per precedence
        level, so the deepest condition allowed stays far from Python's recursion limit.
        """
        node = self._prefix(level)
        if level <= _PRODUCT:
            node = self._arithmetic(node, ("*", "/"), _UNARY)
        if level <= _SUM:
            node = self._arithmetic(node, ("+", "-"), _PRODUCT)
        if level <= _COMPARISON:
            compared = self._comparison_tail(node)
            if compared is not node and self._at_comparison():
                raise RuleSyntaxError(
                    "comparisons cannot be chained: write 'a < b and b < c'",
                    self._token.position,
                )
            node = compared
        if level <= _AND:
            node = self._logical(node, "and", _NOT)
        if level <= _OR:
            node = self._logical(node, "or", _AND)
        return node

    def _prefix(self, level: int) -> Node:
        """``not x`` (where a condition may stand), ``-x``, or a primary."""
        token = self._token
        if level <= _NOT and self._keyword("not"):
            self._advance()
            self._count(token.position)
            self._enter(token.position)
            operand = self._expression(_NOT)
            self._leave()
            return Not(operand, token.position)
        if self._symbol("-"):
            self._advance()
            self._count(token.position)
            self._enter(token.position)
            operand = self._expression(_UNARY)
            self._leave()
            return Negate(operand, token.position)
        return self._primary()

    def _logical(self, first: Node, word: str, level: int) -> Node:
        if not self._keyword(word):
            return first
        operands = [first]
        while self._keyword(word):
            self._count(self._advance().position)
            operands.append(self._expression(level))
        return Logical(word, tuple(operands), first.start)

    def _arithmetic(self, first: Node, operators: tuple[str, str], level: int) -> Node:
        rest: list[tuple[str, int, Node]] = []
        while self._token.kind is TokenKind.SYMBOL and self._token.text in operators:
            token = self._advance()
            self._count(token.position)
            rest.append((token.text, token.position, self._expression(level)))
        if not rest:
            return first
        return Arithmetic(first, tuple(rest), first.start)

    def _at_comparison(self) -> bool:
        token = self._token
        if token.kind is TokenKind.SYMBOL:
            return token.text in _COMPARISONS
        return token.kind is TokenKind.KEYWORD and token.text in ("in", "is", "not")

    def _comparison_tail(self, left: Node) -> Node:
        token = self._token
        start = left.start
        if token.kind is TokenKind.SYMBOL and token.text in _COMPARISONS:
            self._advance()
            self._count(token.position)
            right = self._expression(_SUM)
            return Compare(token.text, left, right, start, token.position)
        if self._keyword("in"):
            self._advance()
            self._count(token.position)
            return Membership(False, left, self._list(), start, token.position)
        if self._keyword("not"):
            following = self._peek()
            if following.kind is not TokenKind.KEYWORD or following.text != "in":
                raise RuleSyntaxError(
                    "'not' here must be followed by 'in' (write 'not' before a condition "
                    "to negate it)",
                    token.position,
                )
            self._advance()
            self._advance()
            self._count(token.position)
            return Membership(True, left, self._list(), start, token.position)
        if self._keyword("is"):
            self._advance()
            negated = self._keyword("not")
            if negated:
                self._advance()
            if not self._keyword("null"):
                after = "'is not'" if negated else "'is'"
                raise RuleSyntaxError(
                    f"expected 'null' after {after}, found {self._token.describe()}",
                    self._token.position,
                )
            self._advance()
            self._count(token.position)
            return NullTest(negated, left, start)
        return left

    def _list(self) -> ListLiteral:
        opening = self._token
        if not self._symbol("["):
            raise RuleSyntaxError(
                f'expected a list like ["a", "b"] after \'in\', found {opening.describe()}',
                opening.position,
            )
        self._advance()
        self._count(opening.position)
        items: list[Literal] = []
        if self._symbol("]"):
            raise RuleSyntaxError("a list needs at least one item", opening.position)
        while True:
            if len(items) == MAX_LIST_ITEMS:
                raise RuleSyntaxError(
                    f"a list has at most {MAX_LIST_ITEMS} items", self._token.position
                )
            items.append(self._list_item())
            if self._symbol(","):
                self._advance()
                continue
            self._expect_symbol("]", f"to close the list opened at position {opening.position}")
            return ListLiteral(tuple(items), opening.position)

    def _list_item(self) -> Literal:
        token = self._token
        self._count(token.position)
        if token.kind is TokenKind.SYMBOL and token.text == "-":
            number = self._peek()
            if number.kind is TokenKind.NUMBER and number.number is not None:
                self._index += 2
                return NumberLiteral(number.number.copy_negate(), token.position)
        literal = self._literal()
        if literal is None:
            raise RuleSyntaxError(
                f"a list holds only numbers, strings, true or false, found {token.describe()}",
                token.position,
            )
        return literal

    def _literal(self) -> Literal | None:
        token = self._token
        if token.kind is TokenKind.NUMBER and token.number is not None:
            self._advance()
            return NumberLiteral(token.number, token.position)
        if token.kind is TokenKind.STRING:
            self._advance()
            return TextLiteral(token.text, token.position)
        if token.kind is TokenKind.KEYWORD and token.text in ("true", "false"):
            self._advance()
            return BoolLiteral(token.text == "true", token.position)
        return None

    def _primary(self) -> Node:
        token = self._token
        self._count(token.position)
        literal = self._literal()
        if literal is not None:
            return literal
        if token.kind is TokenKind.NAME:
            self._advance()
            if self._symbol("("):
                return self._call(token)
            return Feature(token.text, token.position)
        if self._symbol("("):
            self._advance()
            self._enter(token.position)
            node = self._expression(_OR)
            self._leave()
            self._expect_symbol(")", f"to close the '(' at position {token.position}")
            return node
        raise RuleSyntaxError(_not_a_value(token), token.position)

    def _call(self, name: Token) -> Call:
        if name.text not in FUNCTIONS:
            raise RuleSyntaxError(
                f"unknown function '{name.text}' (the functions are {', '.join(FUNCTIONS)})",
                name.position,
            )
        opening = self._advance()
        self._enter(opening.position)
        arguments: list[Node] = []
        if not self._symbol(")"):
            arguments.append(self._expression(_OR))
            while self._symbol(","):
                self._advance()
                arguments.append(self._expression(_OR))
        self._leave()
        self._expect_symbol(")", f"to close the call of {name.text}()")
        if name.text == "abs" and len(arguments) != 1:
            raise RuleSyntaxError("abs() takes exactly one argument", name.position)
        if name.text != "abs" and len(arguments) < 2:
            raise RuleSyntaxError(f"{name.text}() takes at least two arguments", name.position)
        return Call(name.text, tuple(arguments), name.position)


def _not_a_value(token: Token) -> str:
    if token.kind is TokenKind.END:
        return "the condition ends where a value was expected"
    if token.kind is TokenKind.KEYWORD and token.text == "null":
        return "null is tested with 'is null' or 'is not null', never used as a value"
    if token.kind is TokenKind.SYMBOL and token.text == "[":
        return "a list may only follow 'in' or 'not in'"
    return f"expected a value, found {token.describe()}"
