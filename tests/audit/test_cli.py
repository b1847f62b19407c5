"""``ewallet audit verify``: exit 0 on a clean chain, 1 naming the first broken event."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from ewallet.cli.main import app as cli
from ewallet.kit.clock import FrozenClock
from tests.audit.helpers import tampering, write_chain
from tests.audit.test_verify import delete_middle, edit_details


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EWALLET_DATABASE_URL", database_url)
    monkeypatch.setenv("EWALLET_VAR_DIR", str(tmp_path / "var"))


async def verify(*args: str) -> tuple[int, str]:
    # A thread of its own: the command runs its own event loop, as from a shell.
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["audit", "verify", *args])
    return result.exit_code, result.stdout


@pytest.mark.usefixtures("cli_env")
async def test_clean_then_broken(audit_engine: AsyncEngine, clock: FrozenClock) -> None:
    await write_chain(audit_engine, clock)
    code, out = await verify()
    assert code == 0, out
    assert out.startswith("audit chain clean: 6 events, head at event 6 (")

    async with tampering(audit_engine) as conn:
        await edit_details(conn)
    code, out = await verify()
    assert code == 1
    assert out.splitlines()[0] == (
        "audit chain BROKEN at event 3: event 3's content does not match its hash"
    )

    code, out = await verify("--json")
    assert code == 1
    report = json.loads(out)
    assert report["clean"] is False
    assert report["first_broken_event_id"] == 3
    assert report["problems"] == [
        {"event_id": 3, "kind": "edited", "message": "event 3's content does not match its hash"}
    ]


@pytest.mark.usefixtures("cli_env")
async def test_a_deleted_event_is_named(audit_engine: AsyncEngine, clock: FrozenClock) -> None:
    await write_chain(audit_engine, clock)
    async with tampering(audit_engine) as conn:
        await delete_middle(conn)
    code, out = await verify()
    assert code == 1
    assert out.splitlines()[0] == (
        "audit chain BROKEN at event 3: event 3 is missing: ids jump to 4"
    )
