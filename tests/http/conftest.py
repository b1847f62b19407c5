"""The http tests' fixtures: the shared harness in tests/fixtures/serving.py."""

from __future__ import annotations

from tests.fixtures.serving import log_lines, plain_settings

__all__ = ["log_lines", "plain_settings"]
