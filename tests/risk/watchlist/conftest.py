"""Watch-list tests: the shared account harness (the full app: its real-name screen is the
watch list's), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.accounts import clock, harness

SAMPLE = Path(__file__).with_name("sample.csv")
HEADER = "name,date_of_birth,id_number,country,reason\n"

__all__ = ["HEADER", "SAMPLE", "clock", "harness"]
