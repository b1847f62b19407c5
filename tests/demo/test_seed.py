"""``ewallet demo seed``: a living wallet, made through the real API, dated in the past,
with a clean ledger; a second run duplicates nothing; production is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.fixtures.accounts import fast
from tests.fixtures.serving import restore_logging
from typer.testing import CliRunner

from ewallet.app import create_app
from ewallet.cli.main import app as cli
from ewallet.config import Environment, Settings
from ewallet.demo.people import LOGIN_PASSWORD, MERCHANTS, PEOPLE
from ewallet.demo.seed import DAYS, DemoRefusedError, SeedReport, demo_app, seed_demo
from ewallet.kit.clock import FrozenClock, as_utc
from ewallet.ledger.verify import verify_ledger
from ewallet.models.funding import Card, Topup, Withdrawal
from ewallet.models.identity import User
from ewallet.models.ledger import LedgerTransaction
from ewallet.models.merchants import Merchant
from ewallet.models.payments import Payment, Refund
from ewallet.models.transfers import Transfer

NOW = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
TABLES = [
    cast(Table, model.__table__)
    for model in (User, Merchant, Card, Topup, Payment, Refund, Transfer, Withdrawal)
]
ledger_transactions = cast(Table, LedgerTransaction.__table__)


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in [*TABLES, ledger_transactions]
        }


async def seed(settings: Settings) -> SeedReport:
    return await seed_demo(fast(settings), now=NOW)


async def test_seed_makes_a_living_wallet_once(engine: AsyncEngine, settings: Settings) -> None:
    report = await seed(settings)

    assert report.ledger_clean
    assert (await verify_ledger(engine)).clean
    assert [user.person.phone for user in report.users] == [p.phone for p in PEOPLE]
    assert all(user.created for user in report.users)
    assert [m.merchant.name for m in report.merchants] == [m.name for m in MERCHANTS]
    for kind in ("payments", "refunds", "transfers", "withdrawals", "card_topups"):
        assert report.activity[kind] > 0, kind
    if "/v1/bill-payments" in create_app(settings).openapi()["paths"]:
        assert report.activity["bill_payments"] > 0
    made = await counts(engine)
    assert made["users"] == len(PEOPLE)
    assert made["merchants"] == len(MERCHANTS)
    assert made["cards"] == sum(1 for p in PEOPLE if p.card is not None)
    assert made["payments"] == report.activity["payments"]
    assert made["transfers"] == report.activity["transfers"]

    # Four weeks of history, all of it in the past.
    async with engine.connect() as conn:
        first, last = (
            await conn.execute(
                select(
                    func.min(ledger_transactions.c.created_at),
                    func.max(ledger_transactions.c.created_at),
                )
            )
        ).one()
    assert NOW - timedelta(days=DAYS + 1) < as_utc(first) < NOW - timedelta(days=DAYS - 1)
    assert NOW - timedelta(days=2) < as_utc(last) < NOW

    # Running again duplicates nothing; the re-issued merchant keys are the working ones.
    again = await seed(settings)
    assert await counts(engine) == made
    assert not any(user.created for user in again.users)
    assert not any(m.created for m in again.merchants)
    assert sum(again.activity.values()) == 0
    assert again.ledger_clean
    await assert_keys_work(settings, again)


async def assert_keys_work(settings: Settings, report: SeedReport) -> None:
    async with demo_app(fast(settings), FrozenClock(NOW)) as (client, _app):
        shop = next(m for m in report.merchants if m.merchant.key == "coffee")
        created = await client.post(
            "/v1/merchant/orders",
            json={"out_trade_no": "after-reseed", "amount": "1.00", "subject": "test"},
            headers={"Authorization": f"Bearer {shop.api_key}"},
        )
        assert created.status_code == 201, created.text
        first = report.users[0].person
        signed_in = await client.post(
            "/v1/sessions", json={"phone": first.phone, "login_password": LOGIN_PASSWORD}
        )
        assert signed_in.status_code in (201, 401), signed_in.text
        history = await history_of(client, signed_in)
        if history is not None:
            assert {item["type"] for item in history} >= {"topup", "payment"}


async def history_of(
    client: httpx.AsyncClient, signed_in: httpx.Response
) -> list[dict[str, Any]] | None:
    """The user's latest history page, when sign-in did not ask for a step-up."""
    if signed_in.status_code != 201:
        return None
    token = signed_in.json()["tokens"]["access_token"]
    response = await client.get(
        "/v1/me/transactions?limit=100", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_production_is_refused_and_nothing_is_made(
    engine: AsyncEngine, settings: Settings
) -> None:
    before = await counts(engine)
    production = settings.model_copy(update={"env": Environment.PRODUCTION})
    with pytest.raises(DemoRefusedError):
        await seed_demo(production, now=NOW)
    assert await counts(engine) == before


def test_cli_refuses_production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EWALLET_ENV", "production")
    monkeypatch.setenv("EWALLET_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("EWALLET_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("EWALLET_PIN_PEPPER", "p" * 40)
    result = CliRunner().invoke(cli, ["demo", "seed"])
    assert result.exit_code == 2, result.output
    assert "production" in result.output
    assert not (tmp_path / "w.db").exists()


def test_cli_prints_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Against a fresh SQLite file: stdout is one JSON document (logs go to stderr)."""
    database = tmp_path / "demo.db"
    monkeypatch.setenv("EWALLET_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("EWALLET_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("EWALLET_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("EWALLET_ARGON2_MEMORY_KIB", "8192")
    try:
        assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
        result = CliRunner().invoke(cli, ["demo", "seed", "--json"])
    finally:
        restore_logging()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ledger_clean"] is True
    assert summary["login_password"] == LOGIN_PASSWORD
    assert [user["phone"] for user in summary["users"]] == [p.phone for p in PEOPLE]
    assert all(m["api_key"].startswith("mk_") for m in summary["merchants"])
    assert summary["activity"]["payments"] > 0
