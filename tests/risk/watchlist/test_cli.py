"""``ewallet watchlist load`` and ``ewallet watchlist screen`` on the test's database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from ewallet.cli.context import CliServices
from ewallet.cli.watchlist import watchlist_app
from ewallet.models.tables import watchlist_entries, watchlist_loads
from tests.fixtures.accounts import Harness
from tests.risk.watchlist.conftest import HEADER, SAMPLE


async def run(harness: Harness, *args: str) -> Result:
    """The command in a thread of its own: the CLI runs its own event loop and services."""

    def invoke() -> Result:
        services = CliServices(harness.settings)
        try:
            return CliRunner().invoke(watchlist_app, list(args), obj=services)
        finally:
            services.close()

    return await asyncio.to_thread(invoke)


async def counts(harness: Harness) -> tuple[int, int]:
    async with harness.engine.connect() as conn:
        entries = await conn.scalar(select(func.count()).select_from(watchlist_entries))
        loads = await conn.scalar(select(func.count()).select_from(watchlist_loads))
    return int(entries or 0), int(loads or 0)


async def test_load_screen_and_a_refused_file(harness: Harness, tmp_path: Path) -> None:
    loaded = await run(harness, "load", "--list", "sanctions", str(SAMPLE), "--json")
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout) == {
        "list": "sanctions",
        "version": 1,
        "mode": "append",
        "added": 4,
        "removed": 0,
        "total": 4,
    }
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "测试乙,,,,\n测试丙,,,Atlantis,\n", encoding="utf-8")
    refused = await run(harness, "load", "--list", "sanctions", str(bad), "--replace")
    assert refused.exit_code == 1
    assert "line 3: country 'ATLANTIS' is not a two-letter ISO code" in refused.stderr
    assert await counts(harness) == (4, 1)
    missing = await run(harness, "load", "--list", "sanctions", str(tmp_path / "none.csv"))
    assert missing.exit_code == 1
    assert "cannot read" in missing.stderr
    bad_list = await run(harness, "load", "--list", "Bad List", str(SAMPLE))
    assert bad_list.exit_code == 1
    assert "list name" in bad_list.stderr

    screened = await run(harness, "screen", "Zhang Ce Shi", "--json")
    assert screened.exit_code == 0, screened.output
    [match] = json.loads(screened.stdout)
    assert (match["name"], match["score"], match["basis"], match["list"]) == (
        "張測試",
        100,
        "pinyin",
        "sanctions",
    )
    text = await run(harness, "screen", "测试甲", "--dob", "1970-01-01")
    assert "100  han" in text.stdout
    assert "测试甲" in text.stdout
    narrowed = await run(harness, "screen", "测试甲", "--dob", "1999-09-09")
    assert narrowed.stdout.strip() == "no match"
    wrong_date = await run(harness, "screen", "测试甲", "--dob", "09/09/1999")
    assert wrong_date.exit_code == 1

    replaced = await run(harness, "load", "--list", "sanctions", str(SAMPLE), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "4 added, 4 removed, 4 in the list (version 2)" in replaced.stdout
