"""The chat tests' fixtures: the shared harness in tests/fixtures/chat.py."""

from __future__ import annotations

from tests.fixtures.chat import world

__all__ = ["world"]
