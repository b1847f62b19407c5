"""Monthly statements (CSV, PDF, the export command): their totals equal the ledger's."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pypdf import PdfReader
from rich.console import Console
from rich.progress import Progress
from typer.testing import CliRunner

from ewallet.cli.main import app as cli
from ewallet.cli.statements import export_statements
from ewallet.history.views import Month
from ewallet.kit.clock import FrozenClock
from ewallet.ledger import Ledger, chart
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem
from tests.fixtures.transfers import fund, set_tier, transfer

ALICE, BOB = "+8613800000001", "+8613900000002"
MARCH_START = datetime.fromisoformat("2026-03-01T00:00:00+08:00")
APRIL_START = datetime.fromisoformat("2026-04-01T00:00:00+08:00")


async def march(harness: Harness, clock: FrozenClock) -> tuple[TestUser, TestUser]:
    """Alice: ¥800 in February; in March ¥200 more, ¥150.25 and ¥0.75 to Bob; April ¥1."""
    alice = await harness.user(phone=ALICE, pin=PIN)
    bob = await harness.user(phone=BOB, pin=PIN)
    await set_tier(harness, alice, 2, name="*丽")
    await set_tier(harness, bob, 2, name="张*伟")
    clock.set(datetime(2026, 2, 10, 3, 0, tzinfo=UTC))
    await fund(harness, alice, "800.00")
    # 2026-02-28 16:00 UTC is midnight in Shanghai: the first moment of March there.
    clock.set(datetime(2026, 2, 28, 16, 0, tzinfo=UTC))
    await fund(harness, alice, "200.00")
    clock.set(datetime(2026, 3, 15, 4, 0, tzinfo=UTC))
    assert (await transfer(harness, alice, BOB, "150.25", memo="水电费")).status_code == 201
    # 2026-03-31 15:59:59 UTC is the last second of March in Shanghai.
    clock.set(datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC))
    assert (await transfer(harness, alice, BOB, "0.75")).status_code == 201
    clock.set(datetime(2026, 3, 31, 16, 0, tzinfo=UTC))  # April in Shanghai
    await fund(harness, alice, "1.00")
    return alice, bob


async def wallet_balance_at(harness: Harness, user: TestUser, moment: datetime) -> str:
    """The ledger's posted balance just before ``moment``."""
    ledger = Ledger(harness.engine, clock=harness.clock)
    account = await chart.open_account(ledger, chart.wallet(user.id))
    balance = await ledger.balance_at(account.id, moment.replace(microsecond=0) - _EPSILON)
    return balance.to_decimal_string()


_EPSILON = timedelta(microseconds=1)


async def test_csv_statement_adds_up_to_the_ledger(harness: Harness, clock: FrozenClock) -> None:
    alice, bob = await march(harness, clock)
    response = await harness.client.get(
        "/v1/me/statements/2026-03?format=csv", headers=harness.auth(alice)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "statement-2026-03.csv" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    summary = {row[0]: row[1] for row in rows[1:11]}
    opening = await wallet_balance_at(harness, alice, MARCH_START)
    closing = await wallet_balance_at(harness, alice, APRIL_START)
    assert summary["期初余额 Opening balance"] == opening == "800.00"
    assert summary["期末余额 Closing balance"] == closing == "849.00"
    assert summary["收入合计 Total in"] == "200.00"
    assert summary["支出合计 Total out"] == "151.00"
    assert summary["账户 Account"] == "*丽 (138****0001)"
    assert summary["出具机构 Issuer"] == harness.services.settings.issuer_name
    # For programs: ISO 8601 with Beijing's offset written out.
    assert summary["生成时间 Issued"] == "2026-04-01T00:00:00+08:00"
    assert rows[11] == []
    header = rows[12]
    assert header[0] == "时间 Time"
    movements = rows[13:]
    assert [(m[0], m[4], m[5]) for m in movements] == [
        ("2026-03-01T00:00:00+08:00", "+200.00", "1000.00"),
        ("2026-03-15T12:00:00+08:00", "-150.25", "849.75"),
        ("2026-03-31T23:59:59+08:00", "-0.75", "849.00"),
    ]
    assert movements[1][6] == "张*伟 (139****0002)"
    assert movements[1][2] == "转账 transfer"
    # Bob's March: two transfers in.
    bobs = await harness.client.get("/v1/me/statements/2026-03", headers=harness.auth(bob))
    bob_rows = list(csv.reader(io.StringIO(bobs.content.decode("utf-8-sig"))))
    assert {row[0]: row[1] for row in bob_rows[1:11]}["期末余额 Closing balance"] == "151.00"


async def test_pdf_statement_has_chinese_text_and_the_totals(
    harness: Harness, clock: FrozenClock
) -> None:
    alice, _ = await march(harness, clock)
    response = await harness.client.get(
        "/v1/me/statements/2026-03?format=pdf", headers=harness.auth(alice)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ("钱包对账单", "期初余额", "期末余额", "转账", "张*伟", "800.00", "849.00"):
        assert expected in text, expected
    assert "151.00" in text
    # For people: Beijing time to the minute, the issuer and the page number on the page.
    assert "2026-03-15 12:00" in text
    assert "2026年4月1日 00:00" in text  # issued
    assert "第 1 页 / 共 1 页" in text
    assert "Page 1 of 1" in text
    assert text.count(harness.services.settings.issuer_name) >= 2  # the page's head and foot


async def test_a_long_pdf_statement_numbers_every_page_and_names_the_issuer_on_each(
    harness: Harness, clock: FrozenClock
) -> None:
    harness.services.settings.issuer_name = "示例支付有限公司"
    alice = await harness.user(phone=ALICE, pin=PIN)
    await harness.user(phone=BOB, pin=PIN)
    await set_tier(harness, alice, 2, name="*丽")
    clock.set(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    await fund(harness, alice, "900.00")
    for minute in range(40):
        clock.set(datetime(2026, 3, 3, 1, minute, tzinfo=UTC))
        sent = await transfer(harness, alice, BOB, "1.00", key=f"statement-{minute}")
        assert sent.status_code == 201
    clock.set(APRIL_START)
    response = await harness.client.get(
        "/v1/me/statements/2026-03?format=pdf", headers=harness.auth(alice)
    )
    assert response.status_code == 200, response.text
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"第 {number} 页 / 共 {len(pages)} 页" in text
        assert f"Page {number} of {len(pages)}" in text
        assert "示例支付有限公司" in text
        assert "钱包对账单 Wallet statement 2026-03" in text


async def test_a_quiet_month_and_refusals(harness: Harness, clock: FrozenClock) -> None:
    alice, _ = await march(harness, clock)
    may = await harness.client.get("/v1/me/statements/2026-05", headers=harness.auth(alice))
    rows = list(csv.reader(io.StringIO(may.content.decode("utf-8-sig"))))
    summary = {row[0]: row[1] for row in rows[1:11]}
    assert summary["期初余额 Opening balance"] == summary["期末余额 Closing balance"] == "850.00"
    assert summary["笔数 Entries"] == "0"
    empty_pdf = await harness.client.get(
        "/v1/me/statements/2026-05?format=pdf", headers=harness.auth(alice)
    )
    assert empty_pdf.status_code == 200
    for bad in ("2026-13", "26-03", "2026-3", "march"):
        refused = await harness.client.get(f"/v1/me/statements/{bad}", headers=harness.auth(alice))
        assert_problem(refused, 422, "validation_error")
    wrong_format = await harness.client.get(
        "/v1/me/statements/2026-03?format=xlsx", headers=harness.auth(alice)
    )
    assert_problem(wrong_format, 422, "validation_error")
    assert_problem(await harness.client.get("/v1/me/statements/2026-03"), 401, "unauthorized")


async def test_export_writes_every_wallets_statement_with_progress(
    harness: Harness, clock: FrozenClock, tmp_path: Path
) -> None:
    alice, bob = await march(harness, clock)
    await harness.user(phone="+8613700000003")  # no wallet: no statement
    console = Console(file=io.StringIO(), force_terminal=False, width=100)
    with Progress(console=console) as progress:
        written = await export_statements(
            harness.services,
            month=Month.parse("2026-03"),
            user_ids=None,
            out=tmp_path / "out",
            formats=("csv", "pdf"),
            progress=progress,
        )
    names = sorted(path.name for path in written)
    assert names == sorted(
        f"statement-2026-03-{user.id}.{fmt}" for user in (alice, bob) for fmt in ("csv", "pdf")
    )
    assert progress.tasks[0].completed == progress.tasks[0].total == 2
    alice_csv = (tmp_path / "out" / f"statement-2026-03-{alice.id}.csv").read_bytes()
    assert b"849.00" in alice_csv


def test_export_command_needs_a_user_or_all(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["statements", "export", "--month", "2026-03", "--out", "x"])
    assert result.exit_code != 0
    assert "--user" in result.output
    result = runner.invoke(
        cli, ["statements", "export", "--month", "2026-3", "--all", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
