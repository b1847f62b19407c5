"""``ewallet reconcile --date D`` from a shell, against what a running wallet left behind.

Without ``EWALLET_BANK_URL`` the command reaches the development sandbox bank's own database
file, so it sees the movements the server's embedded bank made.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import typer
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from ewallet.bootstrap.bank import sandbox_bank_database_url
from ewallet.cli.reconcile import reconcile as reconcile_command
from ewallet.config import Settings
from ewallet.funding.withdrawals.service import fail_withdrawal
from ewallet.kit.clock import FrozenClock
from tests.fixtures.withdrawals import ICBC, Withdrawing, withdrawing_harness
from tests.reconciliation.helpers import business_day, top_up

# Nothing here is about the bank being slow, and a loaded CI host once stalled a bind past
# the funding harnesses' short give-up time and once a CLI read past the default 10 s: the
# server and the command both wait for the bank as long as a test may take.
PATIENT_SECONDS = 60.0


@pytest.fixture
async def withdrawing(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Withdrawing]:
    async with withdrawing_harness(
        engine, settings, clock, bank_timeout_seconds=PATIENT_SECONDS
    ) as harness:
        yield harness


def run_cli(h: Withdrawing, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    secret = h.settings.secret_key
    assert secret is not None
    monkeypatch.setenv("EWALLET_DATABASE_URL", h.settings.database_url)
    monkeypatch.setenv("EWALLET_VAR_DIR", str(h.settings.var_dir))
    monkeypatch.setenv("EWALLET_SECRET_KEY", secret.get_secret_value())
    monkeypatch.setenv("EWALLET_SANDBOX_BANK_DB_URL", sandbox_bank_database_url(h.settings))
    monkeypatch.setenv("EWALLET_BANK_TIMEOUT_SECONDS", str(PATIENT_SECONDS))
    app = typer.Typer()
    app.command()(reconcile_command)
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


async def test_cli_settles_from_the_file_and_reports(
    withdrawing: Withdrawing, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000301", ICBC, "0.00")
    assert (await top_up(h, user, card_id, "45.52")).status_code == 202
    day = business_day(h).isoformat()
    code, output = await asyncio.to_thread(run_cli, h, monkeypatch, "--date", day, "--json")
    assert code == 0, output
    run = json.loads(output.strip().splitlines()[-1])
    assert run["business_day"] == day
    assert run["counts"]["settled"] == 1
    assert run["counts"]["by_category"] == {"credited": 1}
    assert any("PSP records not compared" in note for note in run["notes"])
    assert str(await h.balance(user)) == "45.52"


async def test_cli_exits_1_on_a_mismatch_and_prints_the_tally(
    withdrawing: Withdrawing, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000302", ICBC, "100.00")
    response = await h.withdraw(user, card_id, "10.52")
    assert response.status_code == 202
    await fail_withdrawal(h.services, response.json()["withdrawal"]["id"], "given up")
    day = business_day(h).isoformat()
    code, output = await asyncio.to_thread(run_cli, h, monkeypatch, "--date", day)
    assert code == 1
    assert "mismatches 1" in output
    assert "released_but_paid: 1" in output


def test_cli_refuses_a_malformed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    app = typer.Typer()
    app.command()(reconcile_command)
    result = CliRunner().invoke(app, ["--date", "yesterday"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
