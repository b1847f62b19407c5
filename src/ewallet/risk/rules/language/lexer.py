"""The rule language's tokens: the source text cut into numbers, strings, names and symbols.

Anything outside the small alphabet (lower-case names, digits, the operators below, quotes,
brackets, commas and white space) is refused here, with its position, so the parser never
sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Final

from ewallet.risk.rules.language.errors import RuleSyntaxError

MAX_NUMBER_DIGITS: Final = 30

KEYWORDS: Final = frozenset({"and", "or", "not", "in", "is", "null", "true", "false"})

# Longest first: "<=" must win over "<".
SYMBOLS: Final = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",")

_WHITE_SPACE: Final = frozenset(" \t\r\n")
_NAME_START: Final = frozenset("abcdefghijklmnopqrstuvwxyz_")
_DIGITS: Final = frozenset("0123456789")
_NAME_PART: Final = _NAME_START | _DIGITS
_ESCAPABLE: Final = frozenset("\\'\"")

# Characters people bring from other languages, with what to write instead.
_HINTS: Final = {
    "=": "'=' is not an operator: compare with '=='",
    "!": "'!' is not an operator: use 'not' or '!='",
    "&": "'&' is not an operator: use 'and'",
    "|": "'|' is not an operator: use 'or'",
    "%": "'%' is not an operator",
    ".": "'.' is only allowed inside a number like 0.8 (there is no attribute access)",
    "#": "the rule language has no comments",
}


class TokenKind(Enum):
    NUMBER = "number"
    STRING = "string"
    NAME = "name"
    KEYWORD = "keyword"
    SYMBOL = "symbol"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str  # the symbol, keyword or name; a string's decoded value; a number's digits
    position: int
    number: Decimal | None = None

    def describe(self) -> str:
        """The token as an error message quotes it."""
        if self.kind is TokenKind.END:
            return "the end of the condition"
        if self.kind is TokenKind.STRING:
            return "a string"
        return f"'{self.text}'"


def tokenize(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an END token; RuleSyntaxError on bad text."""
    tokens: list[Token] = []
    index = 0
    length = len(source)
    while index < length:
        char = source[index]
        if char in _WHITE_SPACE:
            index += 1
        elif char in _NAME_START:
            end = index + 1
            while end < length and source[end] in _NAME_PART:
                end += 1
            word = source[index:end]
            kind = TokenKind.KEYWORD if word in KEYWORDS else TokenKind.NAME
            tokens.append(Token(kind, word, index))
            index = end
        elif char in _DIGITS:
            token, index = _number(source, index)
            tokens.append(token)
        elif char in "'\"":
            token, index = _string(source, index)
            tokens.append(token)
        else:
            symbol = next((s for s in SYMBOLS if source.startswith(s, index)), None)
            if symbol is None:
                raise RuleSyntaxError(_unexpected(source, index), index)
            tokens.append(Token(TokenKind.SYMBOL, symbol, index))
            index += len(symbol)
    tokens.append(Token(TokenKind.END, "", length))
    return tokens


def _unexpected(source: str, index: int) -> str:
    char = source[index]
    if char.isalpha() and char.isascii():
        return "names, keywords and functions are written in lower case"
    if char in _HINTS:
        return _HINTS[char]
    shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
    return f"unexpected character {shown}"


def _number(source: str, start: int) -> tuple[Token, int]:
    end = start
    length = len(source)
    while end < length and source[end] in _DIGITS:
        end += 1
    if end < length and source[end] == ".":
        end += 1
        if end >= length or source[end] not in _DIGITS:
            raise RuleSyntaxError("a decimal point must be followed by digits", end)
        while end < length and source[end] in _DIGITS:
            end += 1
    if end < length and (source[end] in _NAME_PART or source[end] == "."):
        raise RuleSyntaxError(
            f"'{source[end]}' cannot follow a number (numbers are written like 5000 or 0.8)",
            end,
        )
    text = source[start:end]
    digits = sum(1 for c in text if c in _DIGITS)
    if digits > MAX_NUMBER_DIGITS:
        raise RuleSyntaxError(f"a number has at most {MAX_NUMBER_DIGITS} digits", start)
    return Token(TokenKind.NUMBER, text, start, Decimal(text)), end


def _string(source: str, start: int) -> tuple[Token, int]:
    quote = source[start]
    index = start + 1
    length = len(source)
    parts: list[str] = []
    while index < length:
        char = source[index]
        if char == quote:
            return Token(TokenKind.STRING, "".join(parts), start), index + 1
        if char == "\\":
            if index + 1 >= length:
                break
            escaped = source[index + 1]
            if escaped not in _ESCAPABLE:
                raise RuleSyntaxError(
                    "only \\\\, \\' and \\\" may follow a backslash in a string", index
                )
            parts.append(escaped)
            index += 2
        else:
            parts.append(char)
            index += 1
    raise RuleSyntaxError("this string is never closed", start)
