"""SQLite's durability level: FULL unless the environment lowers it, and what it says applies."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ewallet.kit.db.engine import SQLITE_SYNCHRONOUS_VARIABLE, make_engine, sqlite_synchronous

LEVEL_NUMBERS = {"OFF": 0, "NORMAL": 1, "FULL": 2}


def test_full_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SQLITE_SYNCHRONOUS_VARIABLE, raising=False)
    assert sqlite_synchronous() == "FULL"


def test_a_lower_level_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SQLITE_SYNCHRONOUS_VARIABLE, " normal ")
    assert sqlite_synchronous() == "NORMAL"


def test_an_unknown_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SQLITE_SYNCHRONOUS_VARIABLE, "EXTRA; DROP TABLE x")
    with pytest.raises(ValueError, match=SQLITE_SYNCHRONOUS_VARIABLE):
        sqlite_synchronous()


@pytest.mark.parametrize("level", ["FULL", "OFF"])
async def test_each_connection_runs_at_the_level(
    level: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SQLITE_SYNCHRONOUS_VARIABLE, level)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'level.db'}", pool_size=1)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == LEVEL_NUMBERS[level]
    finally:
        await engine.dispose()
