"""The syntax tree of a condition, as the parser builds it and the compiler reads it.

Chains of the same precedence (``a + b - c``, ``x and y and z``) are one node with a list
of operands, so the tree is only as deep as the condition's visible nesting. Every node
keeps the 0-based offset where its text starts; an operator node also keeps its
operator's, which is where a type error about the operator points.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class NumberLiteral:
    value: Decimal
    start: int


@dataclass(frozen=True, slots=True)
class TextLiteral:
    value: str
    start: int


@dataclass(frozen=True, slots=True)
class BoolLiteral:
    value: bool
    start: int


Literal: TypeAlias = NumberLiteral | TextLiteral | BoolLiteral


@dataclass(frozen=True, slots=True)
class ListLiteral:
    """The right side of ``in`` / ``not in``, the only place a list may appear."""

    items: tuple[Literal, ...]
    start: int


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    start: int


@dataclass(frozen=True, slots=True)
class Call:
    function: str  # min, max or abs
    arguments: tuple[Node, ...]
    start: int


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node
    start: int


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """``first (op operand)*`` for one precedence level: ``+``/``-`` or ``*``/``/``."""

    first: Node
    rest: tuple[tuple[str, int, Node], ...]  # (operator, its offset, operand)
    start: int


@dataclass(frozen=True, slots=True)
class Compare:
    operator: str  # == != < <= > >=
    left: Node
    right: Node
    start: int
    operator_start: int


@dataclass(frozen=True, slots=True)
class Membership:
    negated: bool  # not in
    left: Node
    choices: ListLiteral
    start: int
    operator_start: int


@dataclass(frozen=True, slots=True)
class NullTest:
    negated: bool  # is not null
    operand: Node
    start: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    start: int


@dataclass(frozen=True, slots=True)
class Logical:
    operator: str  # and / or
    operands: tuple[Node, ...]
    start: int


Node: TypeAlias = (
    NumberLiteral
    | TextLiteral
    | BoolLiteral
    | Feature
    | Call
    | Negate
    | Arithmetic
    | Compare
    | Membership
    | NullTest
    | Not
    | Logical
)
