"""``ewallet settlement run --date D`` as a process: killed half-way, run again, nobody is
paid twice.

The command builds its own services and its own sandbox bank on the same database file as
the test's app. Payouts go to the sandbox's slow account (answered after a quarter of the
bank timeout), so the process is caught between payouts: it is SIGKILLed once the bank has
paid some but not all, then the same command runs to the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from ewallet.bootstrap.bank import sandbox_bank_database_url
from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.settlement.conftest import FIRST_DAY, Settling, at
from tests.settlement.helpers import bank_balance, payouts_at_bank

SLOW = TEST_CARDS[8]
SHOPS = 8
# The slow account answers after a quarter of it; long enough for a loaded machine.
CLI_BANK_TIMEOUT = "4.0"


def _environment(settling: Settling) -> dict[str, str]:
    secret = settling.settings.secret_key
    assert secret is not None
    return {
        **os.environ,
        "EWALLET_DATABASE_URL": settling.settings.database_url,
        "EWALLET_VAR_DIR": str(settling.settings.var_dir),
        "EWALLET_SECRET_KEY": secret.get_secret_value(),
        "EWALLET_SANDBOX_BANK_DB_URL": sandbox_bank_database_url(settling.settings),
        "EWALLET_BANK_TIMEOUT_SECONDS": CLI_BANK_TIMEOUT,
        "EWALLET_LOG_JSON": "true",
    }


async def _command(settling: Settling) -> asyncio.subprocess.Process:
    executable = Path(sys.executable).with_name("ewallet")
    return await asyncio.create_subprocess_exec(
        str(executable),
        "settlement",
        "run",
        "--date",
        FIRST_DAY.isoformat(),
        "--json",
        env=_environment(settling),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_killed_mid_run_then_rerun_pays_each_merchant_once(settling: Settling) -> None:
    shops = [await settling.shop_with_account(f"Shop {n}", SLOW) for n in range(SHOPS)]
    for n, shop in enumerate(shops):
        await settling.sale(shop.merchant.id, 10_00 + n, 0, at(FIRST_DAY, 11))
    before = await bank_balance(settling.app, SLOW)

    process = await _command(settling)
    for _ in range(1200):
        if len(await payouts_at_bank(settling.app)) >= 3 or process.returncode is not None:
            break
        await asyncio.sleep(0.02)
    if process.returncode is None:
        process.send_signal(signal.SIGKILL)
    _, err = await process.communicate()
    assert process.returncode == -signal.SIGKILL, err.decode()[-3000:]
    killed_at = len(await payouts_at_bank(settling.app))
    assert 3 <= killed_at < SHOPS

    again = await _command(settling)
    out, err = await again.communicate()
    assert again.returncode == 0, (out + err).decode()[-3000:]
    counts = json.loads(out.decode().strip().splitlines()[-1])
    assert counts["paid"] + counts["already_done"] == SHOPS

    paid = await payouts_at_bank(settling.app)
    assert sorted(int(p.amount_fen) for p in paid) == [10_00 + n for n in range(SHOPS)]
    assert await bank_balance(settling.app, SLOW) == before + sum(10_00 + n for n in range(SHOPS))
    for shop in shops:
        (row,) = await settling.rows(shop.merchant.id)
        assert row.status == "paid"
        assert await settling.available(shop.merchant.id) == 0
