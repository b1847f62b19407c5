"""Large-value collection, suspicious candidates, the day's export and the staff API, on
SQLite and PostgreSQL.

The clock starts on Monday 2026-03-02 at 09:00 in Beijing (01:00 UTC).
"""

from __future__ import annotations

import csv
import hashlib
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ewallet.cli.main import app as cli
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.money import Money
from ewallet.models.tables import aml_exports, aml_report_candidates, audit_events
from ewallet.risk.aml.formats import COLUMNS, XML_NAMESPACE
from ewallet.risk.aml.service import collect_large_value, record_suspicious_candidate
from ewallet.risk.aml.views import LargeValueGroup
from tests.fixtures.accounts import PIN, assert_problem
from tests.risk.aml.conftest import Aml, make_id_number

DAY = date(2026, 3, 2)
NS = {"r": XML_NAMESPACE}


def _by_subject(groups: tuple[LargeValueGroup, ...]) -> dict[tuple[str, str], LargeValueGroup]:
    return {(group.category, group.subject_id): group for group in groups}


async def _candidates(aml: Aml) -> list[dict[str, Any]]:
    async with aml.engine.connect() as conn:
        rows = await conn.execute(
            select(aml_report_candidates).order_by(aml_report_candidates.c.id)
        )
        return [dict(row._mapping) for row in rows]


async def test_cash_threshold_boundary_cumulative_and_day_edges(aml: Aml) -> None:
    just_below = await aml.user(phone="+8613800000001")
    exactly = await aml.user(phone="+8613800000002")
    two_deposits = await aml.user(phone="+8613800000003")
    across_midnight = await aml.user(phone="+8613800000004")
    await aml.cash(just_below, "49999.99", "R1")
    await aml.cash(exactly, "50000.00", "R2")  # waits for a supervisor, then completes
    await aml.cash(two_deposits, "30000.00", "R3")
    await aml.cash(two_deposits, "20000.00", "R4")
    # 23:59:59 on 2 March and 00:00:00 on 3 March, Beijing: two days of ¥30,000 each.
    aml.clock.set(datetime(2026, 3, 2, 15, 59, 59, tzinfo=UTC))
    await aml.cash(across_midnight, "30000.00", "R5")
    aml.clock.set(datetime(2026, 3, 2, 16, 0, 0, tzinfo=UTC))
    await aml.cash(across_midnight, "30000.00", "R6")

    first = await collect_large_value(aml.services, DAY)
    groups = _by_subject(first.groups)
    assert set(groups) == {("cash", exactly.id), ("cash", two_deposits.id)}
    assert groups[("cash", two_deposits.id)].total == Money.parse("50000.00")
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    second_day = await collect_large_value(aml.services, DAY + timedelta(days=1))
    assert second_day.groups == ()
    assert second_day.created == 0

    rows = {row["subject_id"]: row for row in await _candidates(aml)}
    assert set(rows) == {exactly.id, two_deposits.id}
    summed = rows[two_deposits.id]
    assert (summed["kind"], summed["category"], summed["amount"]) == (
        "large_value",
        "cash",
        5_000_000,
    )
    assert summed["transaction_count"] == 2
    assert all(ref.startswith("counter_deposit:") for ref in summed["transaction_refs"])
    assert summed["business_day"] == "2026-03-02"
    assert summed["state"] == "open"

    # Collecting again changes nothing; a later deposit of the day raises the total.
    again = await collect_large_value(aml.services, DAY)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert len(await _candidates(aml)) == 2
    aml.clock.set(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    await aml.cash(exactly, "0.01", "R7")
    raised = await collect_large_value(aml.services, DAY)
    assert (raised.created, raised.updated, raised.unchanged) == (0, 1, 1)
    rows = {row["subject_id"]: row for row in await _candidates(aml)}
    assert rows[exactly.id]["amount"] == 5_000_001
    assert rows[exactly.id]["transaction_count"] == 2
    assert len(rows) == 2


async def test_transfers_each_direction_with_counterparty(aml: Aml) -> None:
    sender = await aml.user(phone="+8613800000011", pin=PIN)
    payee = await aml.user(phone="+8613800000012")
    await aml.verify(sender, "王小明", make_id_number(sequence="111"))
    await aml.verify(payee, "李四", make_id_number(sequence="222"))
    await aml.cash(sender, "2000.00", "T1")
    await aml.transfer(sender, payee, "600.00", "k1")
    await aml.transfer(sender, payee, "399.99", "k2")
    below = await collect_large_value(aml.services, DAY)
    assert {g.category for g in below.groups} == set()  # ¥999.99 each way: below ¥1,000
    await aml.transfer(sender, payee, "0.01", "k3")
    result = await collect_large_value(aml.services, DAY)
    groups = _by_subject(result.groups)
    assert set(groups) == {("transfer_out", sender.id), ("transfer_in", payee.id)}
    out = groups[("transfer_out", sender.id)]
    assert out.total == Money.parse("1000.00")
    movement = out.movements[0]
    assert (movement.direction, movement.channel) == ("out", "wallet_transfer")
    assert (movement.counterparty_type, movement.counterparty_id) == ("user", payee.id)
    assert movement.counterparty_name == "*四"  # masked: never the other customer's full name
    incoming = groups[("transfer_in", payee.id)].movements
    assert [m.direction for m in incoming] == ["in", "in", "in"]


async def test_suspicious_candidate_rolls_back_with_its_unit_and_merges(aml: Aml) -> None:
    user = await aml.user(phone="+8613800000021")

    async def record(uow: UnitOfWork, refs: list[str], amount: str) -> str:
        return await record_suspicious_candidate(
            uow,
            clock=aml.clock,
            subject_type="user",
            subject_id=user.id,
            day=DAY,
            amount=Money.parse(amount),
            references=refs,
            rule_name="structuring",
            reason="several deposits just under the large-cash threshold",
        )

    class RefusedError(Exception):
        pass

    async def refused(uow: UnitOfWork) -> None:
        await record(uow, ["counter_deposit:a"], "49000.00")
        raise RefusedError

    with pytest.raises(RefusedError):
        await run_unit(aml.engine, refused)
    assert await _candidates(aml) == []

    first = await run_unit(aml.engine, lambda uow: record(uow, ["counter_deposit:a"], "49000.00"))
    again = await run_unit(
        aml.engine,
        lambda uow: record(uow, ["counter_deposit:a", "counter_deposit:b"], "98000.00"),
    )
    assert again == first
    (row,) = await _candidates(aml)
    assert row["kind"] == "suspicious"
    assert row["rule_name"] == "structuring"
    assert row["category"] == "structuring"
    assert row["transaction_refs"] == ["counter_deposit:a", "counter_deposit:b"]
    assert (row["amount"], row["transaction_count"]) == (9_800_000, 2)


async def test_export_csv_and_xml_parsed_back_and_audited(aml: Aml) -> None:
    customer = await aml.user(phone="+8613800000031")
    id_number = make_id_number(sequence="333")
    await aml.verify(customer, "张三丰", id_number)
    await aml.cash(customer, "50000.00", "E1")
    flagged = await aml.user(phone="+8613800000032")
    await run_unit(
        aml.engine,
        lambda uow: record_suspicious_candidate(
            uow,
            clock=aml.clock,
            subject_type="user",
            subject_id=flagged.id,
            day=DAY,
            amount=Money.parse("48000.00"),
            references=["counter_deposit:x"],
            rule_name="structuring",
            reason="=cmd| looks like a formula",
        ),
    )

    response = await aml.officer_get("/v1/staff/aml/reports/export", date="2026-03-02")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    assert 'filename="aml-report-2026-03-02.csv"' in response.headers["content-disposition"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    records = [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]
    large, suspicious = records
    assert large["报告类型 Report kind"] == "large_value"
    assert large["客户名称 Customer name"] == "张三丰"
    assert (large["证件类型 ID type"], large["证件号码 ID number"]) == ("resident_id", id_number)
    assert large["当日合计 Day total"] == "50000.00"
    assert large["交易金额 Amount"] == "50000.00"
    assert large["收付方向 Direction"] == "in"
    assert large["渠道 Channel"] == "counter_cash"
    assert large["交易时间 Time (UTC+8)"] == "2026-03-02T09:00:00+08:00"
    assert large["报送截止 Due date"] == "2026-03-09"  # five working days after Monday
    assert customer.phone not in body.decode("utf-8-sig")  # never the phone number
    # An open suspicious candidate is not a report yet: no name, no ID number.
    assert suspicious["报告类型 Report kind"] == "suspicious"
    assert suspicious["客户编号 Customer id"] == flagged.id
    assert suspicious["证件号码 ID number"] == ""
    assert suspicious["客户名称 Customer name"] == ""
    assert suspicious["原因 Reason"].startswith("'=")
    assert suspicious["交易编号 Transaction"] == "counter_deposit:x"

    async with aml.engine.connect() as conn:
        (export,) = list(await conn.execute(select(aml_exports)))
        (event,) = list(
            await conn.execute(select(audit_events).where(audit_events.c.action == "aml.exported"))
        )
    assert export.sha256 == hashlib.sha256(body).hexdigest()
    assert (export.large_value_count, export.suspicious_count, export.transaction_count) == (
        1,
        1,
        1,
    )
    assert event.details["sha256"] == export.sha256
    assert event.details["date"] == "2026-03-02"
    assert event.details["format"] == "csv"
    assert id_number not in str(event.details)
    assert "张三丰" not in str(event.details)

    xml_response = await aml.officer_get(
        "/v1/staff/aml/reports/export", date="2026-03-02", format="xml"
    )
    assert xml_response.status_code == 200, xml_response.text
    assert xml_response.headers["content-type"].startswith("application/xml")
    assert xml_response.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = ET.fromstring(xml_response.content)
    assert root.tag == f"{{{XML_NAMESPACE}}}amlDailyReport"
    assert root.get("businessDay") == "2026-03-02"
    (report,) = root.findall("r:largeValueReports/r:report", NS)
    subject = report.find("r:subject", NS)
    assert subject is not None
    assert (subject.get("name"), subject.get("idNumber")) == ("张三丰", id_number)
    (transaction,) = report.findall("r:transaction", NS)
    assert (transaction.get("amount"), transaction.get("channel")) == ("50000.00", "counter_cash")
    counterparty = transaction.find("r:counterparty", NS)
    assert counterparty is not None
    assert counterparty.get("id") == "HQ"
    (candidate,) = root.findall("r:suspiciousCandidates/r:candidate", NS)
    assert candidate.get("rule") == "structuring"
    flagged_subject = candidate.find("r:subject", NS)
    assert flagged_subject is not None
    assert flagged_subject.get("idNumber") is None
    assert [r.text for r in candidate.findall("r:reference", NS)] == ["counter_deposit:x"]
    assert (await aml.aml_world())["aml_exports"] == 2


async def test_staff_api_authorization_decisions_and_bad_dates(aml: Aml) -> None:
    customer = await aml.user(phone="+8613800000041")
    await aml.cash(customer, "50000.00", "A1")
    await collect_large_value(aml.services, DAY)
    (candidate,) = await _candidates(aml)
    path = "/v1/staff/aml/reports"

    assert_problem(await aml.client.get(path, params={"date": "2026-03-02"}), 401, "unauthorized")
    teller = await aml.staff("teller")
    refused = await aml.client.get(path, params={"date": "2026-03-02"}, headers=teller.headers())
    assert_problem(refused, 403, "forbidden")
    refused = await aml.client.get(
        f"{path}/export", params={"date": "2026-03-02"}, headers=teller.headers()
    )
    assert_problem(refused, 403, "forbidden")
    decide = f"/v1/staff/aml/candidates/{candidate['id']}/dismiss"
    assert_problem(await aml.client.post(decide, json={}), 401, "unauthorized")
    assert_problem(
        await aml.client.post(decide, json={}, headers=teller.headers()), 403, "forbidden"
    )

    listed = await aml.officer_get(path, date="2026-03-02")
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["subject_id"] == customer.id
    assert item["amount"] == {
        "amount": "50000.00",
        "currency": "CNY",
    }
    assert item["due_date"] == "2026-03-09"

    before = await aml.aml_world()
    for bad in ("2026-02-30", "02/03/2026", "2026-03-03"):  # not a date; not ISO; tomorrow
        answer = await aml.officer_get(f"{path}/export", date=bad)
        assert_problem(answer, 422, "validation_error")
    answer = await aml.officer_get(f"{path}/export", date="2026-03-02", format="pdf")
    assert_problem(answer, 422, "validation_error")
    assert_problem(await aml.officer_get(path, date="yesterday"), 422, "validation_error")
    assert await aml.aml_world() == before

    officer = await aml.staff("risk_officer")
    unknown = await aml.client.post(
        "/v1/staff/aml/candidates/aml_nope/report", json={}, headers=officer.headers()
    )
    assert_problem(unknown, 404, "not_found")
    assert await aml.aml_world() == before

    dismissed = await aml.client.post(
        decide, json={"note": "test deposit by staff"}, headers=officer.headers()
    )
    assert dismissed.status_code == 200, dismissed.text
    decided = dismissed.json()["candidate"]
    assert (decided["state"], decided["decided_by"]) == ("dismissed", officer.id)
    assert decided["note"] == "test deposit by staff"
    after_first = await aml.aml_world()
    again = await aml.client.post(
        f"/v1/staff/aml/candidates/{candidate['id']}/report", json={}, headers=officer.headers()
    )
    assert_problem(again, 409, "aml_candidate_already_decided")
    assert await aml.aml_world() == after_first
    assert "aml.candidate_dismissed" in await aml.actions()
    # A dismissed large-value candidate is left out of the day's report.
    exported = await aml.officer_get(f"{path}/export", date="2026-03-02")
    assert exported.status_code == 200
    assert len(list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))) == 1


def test_cli_refuses_a_malformed_date_before_touching_anything() -> None:
    result = CliRunner().invoke(cli, ["aml", "export", "--date", "2026-13-01"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
