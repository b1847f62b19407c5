"""A counter deposit's printed receipt (amount in Chinese capitals, the PDF, the route that
serves it), the slip check before the cash is taken, and the large-cash CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from ewallet.counter.receipts import amount_in_capitals
from ewallet.counter.reports import large_cash_csv
from ewallet.counter.service import large_cash_report, preview_deposit
from ewallet.kit.errors import DomainError
from ewallet.kit.money import Money
from ewallet.models.tables import audit_events, users
from ewallet.staff.principal import StaffPrincipal
from tests.counter.conftest import Counter, Staffer
from tests.fixtures.accounts import assert_problem
from tests.fixtures.staff import audit_actions

PHONE = "+8613800003333"


# ------------------------------------------------------------------------------ capitals


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        # The PBoC's own examples for slips (支付结算办法, 填写票据的基本规定).
        ("1409.50", "人民币壹仟肆佰零玖元伍角"),
        ("6007.14", "人民币陆仟零柒元壹角肆分"),
        ("1680.32", "人民币壹仟陆佰捌拾元叁角贰分"),
        ("107000.53", "人民币壹拾万柒仟元伍角叁分"),
        ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "人民币叁佰贰拾伍元零肆分"),
        # Whole yuan end with 整; tens are 壹拾; a run of zeros is one 零.
        ("50000.00", "人民币伍万元整"),
        ("10.00", "人民币壹拾元整"),
        ("1.00", "人民币壹元整"),
        ("100500.00", "人民币壹拾万零伍佰元整"),
        ("1001000.00", "人民币壹佰万壹仟元整"),
        ("100000001.00", "人民币壹亿零壹元整"),
        ("100010000.00", "人民币壹亿零壹万元整"),
        ("1200000000.00", "人民币壹拾贰亿元整"),
        ("110.10", "人民币壹佰壹拾元壹角"),
        # Below one yuan.
        ("0.50", "人民币伍角"),
        ("0.05", "人民币伍分"),
        ("0.55", "人民币伍角伍分"),
    ],
)
def test_amounts_in_chinese_capitals(amount: str, words: str) -> None:
    assert amount_in_capitals(Money.parse(amount)) == words


def test_capitals_are_for_renminbi_only() -> None:
    with pytest.raises(ValueError, match="renminbi"):
        amount_in_capitals(Money.parse("1.00", "USD"))


# ------------------------------------------------------------------------------ the PDF


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def _named(counter: Counter, user_id: str, masked: str) -> None:
    async with counter.engine.begin() as conn:
        named = update(users).where(users.c.id == user_id).values(real_name_masked=masked)
        await conn.execute(named)


def _receipt_path(deposit_id: str) -> str:
    return f"/v1/staff/counter-deposits/{deposit_id}/receipt.pdf"


async def test_the_receipt_of_a_credited_deposit(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    await _named(h, user.id, "*小明")
    teller = await h.staffer("teller")
    created = await h.deposit(teller, PHONE, "16409.02", "R-PDF-1", branch="SH01")
    deposit = created.json()["deposit"]
    answer = await h.read(teller, _receipt_path(deposit["id"]))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    text = _text(answer.content)
    for shown in ("R-PDF-1", "SH01", "¥16,409.02", "人民币壹万陆仟肆佰零玖元零贰分", "*小明"):
        assert shown in text, shown
    assert "138****3333" in text
    assert "13800003333" not in text  # masked on paper
    assert "已入账" in text
    assert "2026年3月2日 09:00" in text  # the cash's time in Asia/Shanghai, in words
    assert "2 Mar 2026, 09:00 (Beijing time)" in text
    printed = ("counter_deposit.receipt_printed", teller.id, deposit["id"])
    assert printed in await audit_actions(h.engine)


async def test_a_waiting_or_rejected_deposits_receipt_says_nothing_was_credited(
    counter: Counter,
) -> None:
    h = counter
    await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    supervisor = await h.staffer("teller_supervisor")
    created = await h.deposit(teller, PHONE, "80000.00", "R-PDF-2")
    deposit_id = created.json()["deposit"]["id"]
    waiting = _text((await h.read(supervisor, _receipt_path(deposit_id))).content)
    assert "待主管审批，尚未入账" in waiting
    assert "人民币捌万元整" in waiting
    rejected = await h.reject(supervisor, deposit_id, "Customer <left> & took the cash")
    assert rejected.status_code == 200, rejected.text
    text = _text((await h.read(teller, _receipt_path(deposit_id))).content)
    assert "已拒绝，未入账" in text
    assert "Customer <left> & took the cash" in text  # the reason is text, not markup


async def test_who_may_print_a_receipt(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    deposit_id = (await h.deposit(teller, PHONE, "10.00", "R-PDF-3")).json()["deposit"]["id"]
    path = _receipt_path(deposit_id)
    for role in ("teller_supervisor", "risk_officer", "admin"):
        reader = await h.staffer(role)
        assert (await h.read(reader, path)).status_code == 200, role
    agent = await h.staffer("support_agent")
    before = await _events(h)
    assert_problem(await h.read(agent, path), 403, "forbidden")
    assert_problem(await h.client.get(path), 401, "unauthorized")
    assert_problem(await h.client.get(path, headers=h.auth(user)), 401, "unauthorized")
    assert_problem(await h.read(teller, _receipt_path("cdp_nosuchdeposit")), 404, "not_found")
    assert await _events(h) == before  # refused: nothing printed, nothing recorded


async def _events(counter: Counter) -> int:
    async with counter.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(audit_events)) or 0)


# ------------------------------------------------------------------------------ the slip check


def _principal(staffer: Staffer, counter: Counter) -> StaffPrincipal:
    return StaffPrincipal(
        staff_id=staffer.id,
        session_id="ssn_test",
        role=staffer.role,
        must_change_password=False,
        session_expires_at=counter.clock.now() + timedelta(hours=1),
    )


async def test_a_slip_is_checked_before_the_cash_is_taken(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    await _named(h, user.id, "*小明")
    teller = _principal(await h.staffer("teller"), h)
    before = await h.world()
    small = await preview_deposit(
        h.services, teller, phone="138 0000 3333", amount="49999.99", receipt_no="R-CHK-1"
    )
    assert (small.customer_name_masked, small.phone_masked) == ("*小明", "138****3333")
    assert small.amount == Money.parse("49999.99")
    assert (small.branch, small.needs_approval, small.earlier) == ("HQ", False, None)
    large = await preview_deposit(
        h.services, teller, phone=PHONE, amount="50000.00", receipt_no="R-CHK-1"
    )
    assert large.needs_approval
    after = await h.world()
    # Only the looks at the customer were written: no deposit, no money, no notice.
    assert after == {**before, "audit": before["audit"] + 2}
    assert ("counter_deposit.customer_checked", teller.staff_id, user.id) in await audit_actions(
        h.engine
    )


async def test_a_checked_slip_is_refused_as_recording_it_would_be(counter: Counter) -> None:
    h = counter
    await h.user(phone=PHONE)
    staffer = await h.staffer("teller")
    teller = _principal(staffer, h)
    recorded = await h.deposit(staffer, PHONE, "300.00", "R-CHK-2")
    again = await preview_deposit(
        h.services, teller, phone=PHONE, amount="300.00", receipt_no="R-CHK-2"
    )
    assert again.earlier is not None
    assert again.earlier.id == recorded.json()["deposit"]["id"]
    before = await h.world()
    refusals = [
        ({"phone": "+8613899990000"}, "receipt_already_used"),  # the receipt's other phone
        ({"phone": "+8613899990000", "receipt_no": "R-CHK-9"}, "not_found"),
        ({"amount": "300.001"}, "invalid_amount"),
        ({"amount": "300.10"}, "receipt_already_used"),
        ({"receipt_no": "R 2 #"}, "validation_error"),
        ({"branch": "HQ:1"}, "validation_error"),
        ({"phone": "12345"}, "invalid_phone"),
    ]
    for change, code in refusals:
        slip = {"phone": PHONE, "amount": "300.00", "receipt_no": "R-CHK-2", **change}
        with pytest.raises(DomainError) as refused:
            await preview_deposit(h.services, teller, **slip)
        assert refused.value.code == code, change
    assert await h.world() == before


async def test_a_frozen_account_is_refused_before_the_cash_is_taken(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    await h.freeze(user)
    teller = _principal(await h.staffer("teller"), h)
    before = await h.world()
    with pytest.raises(DomainError) as refused:
        await preview_deposit(h.services, teller, phone=PHONE, amount="1.00", receipt_no="R-4")
    assert refused.value.code == "account_frozen"
    assert await h.world() == before


# ------------------------------------------------------------------------------ lists, CSV


async def test_deposits_of_one_teller_and_a_reason_is_required(counter: Counter) -> None:
    h = counter
    await h.user(phone=PHONE)
    alice, bob = await h.staffer("teller"), await h.staffer("teller")
    supervisor = await h.staffer("teller_supervisor")
    await h.deposit(alice, PHONE, "1.00", "R-LST-1")
    waiting = await h.deposit(bob, PHONE, "60000.00", "R-LST-2")
    mine = await h.read(alice, "/v1/staff/counter-deposits", teller_id=alice.id)
    assert [d["receipt_no"] for d in mine.json()["items"]] == ["R-LST-1"]
    deposit_id = waiting.json()["deposit"]["id"]
    blank = await h.reject(supervisor, deposit_id, "   ")
    assert_problem(blank, 422, "validation_error")
    still = await h.read(supervisor, f"/v1/staff/counter-deposits/{deposit_id}")
    assert still.json()["deposit"]["status"] == "awaiting_approval"


async def test_the_large_cash_report_as_csv(counter: Counter) -> None:
    h = counter
    await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    supervisor = await h.staffer("teller_supervisor")
    created = await h.deposit(teller, PHONE, "50000.00", "R-CSV-1")
    deposit_id = created.json()["deposit"]["id"]
    assert (await h.approve(supervisor, deposit_id)).status_code == 200
    report = await large_cash_report(h.services, _principal(supervisor, h), first=None, last=None)
    raw = large_cash_csv(report)
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheets read it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "大额现金记录 Large-cash records"
    header, record = rows[2], rows[3]
    line = dict(zip(header, record, strict=True))
    assert line["存款编号 Deposit"] == deposit_id
    assert line["金额 Amount"] == "50000.00"
    assert line["手机号 Phone"] == "138****3333"
    assert line["存款状态 Deposit state"] == "completed"
    assert line["时间 Time (UTC+8)"] == "2026-03-02 09:00:00"
    assert line["审批主管 Approved by"].startswith("teller_supervisor.")
