"""A day's AML report as CSV and as XML (pure: no SQL, no I/O).

Both carry the same facts (docs/aml-reports.md lists each column and why it is there):

- **CSV**: UTF-8 with a byte-order mark (spreadsheet programs on Chinese Windows read it
  right), a header row in Chinese and English, one row per transaction of each large-value
  report (its report's columns repeated) and one row per suspicious candidate; times in
  Asia/Shanghai; amounts as plain decimals. A text cell a spreadsheet would take for a
  formula gets a leading apostrophe.
- **XML**: our own schema (namespace ``urn:ewallet:aml-daily-report:1``), built with
  ``xml.etree`` and written with an XML declaration in UTF-8. It is *not* the regulator's
  file interface (the China Anti-Money Laundering Monitoring and Analysis Center's
  format); a reporting institution maps it to that interface.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Final

from ewallet.kit.money import Money
from ewallet.risk.aml.views import (
    CandidateView,
    DailyReport,
    Identity,
    LargeValueEntry,
    Movement,
    SuspiciousEntry,
)
from ewallet.risk.limits import CHINA_TIME

CSV_MEDIA_TYPE: Final = "text/csv; charset=utf-8"
XML_MEDIA_TYPE: Final = "application/xml"
XML_NAMESPACE: Final = "urn:ewallet:aml-daily-report:1"
SCHEMA_VERSION: Final = "1"

COLUMNS: Final = (
    "报告类型 Report kind",
    "候选编号 Candidate",
    "类别 Category",
    "规则 Rule",
    "状态 State",
    "交易日 Business day",
    "报送截止 Due date",
    "主体类型 Subject type",
    "客户编号 Customer id",
    "客户名称 Customer name",
    "证件类型 ID type",
    "证件号码 ID number",
    "当日合计 Day total",
    "币种 Currency",
    "交易笔数 Transactions",
    "交易编号 Transaction",
    "交易时间 Time (UTC+8)",
    "交易金额 Amount",
    "收付方向 Direction",
    "渠道 Channel",
    "交易对手类型 Counterparty type",
    "交易对手编号 Counterparty id",
    "交易对手名称 Counterparty name",
    "原因 Reason",
)
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def _local(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(CHINA_TIME).isoformat(timespec="seconds")


def _cell(value: str | None) -> str:
    text = value or ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _report_cells(candidate: CandidateView, identity: Identity | None) -> list[str]:
    who = identity or Identity()
    return [
        candidate.kind,
        candidate.id,
        _cell(candidate.category),
        _cell(candidate.rule_name),
        candidate.state,
        candidate.business_day.isoformat(),
        candidate.due_date.isoformat(),
        candidate.subject_type,
        candidate.subject_id,
        _cell(who.name),
        who.id_type or "",
        _cell(who.id_number),
        candidate.amount.to_decimal_string(),
        candidate.amount.currency,
        str(candidate.transaction_count),
    ]


def _movement_cells(movement: Movement | None) -> list[str]:
    if movement is None:
        return [""] * 8
    return [
        movement.reference,
        _local(movement.occurred_at),
        movement.amount.to_decimal_string(),
        movement.direction,
        movement.channel,
        movement.counterparty_type,
        _cell(movement.counterparty_id),
        _cell(movement.counterparty_name),
    ]


def _large_value_rows(entry: LargeValueEntry) -> list[list[str]]:
    head = _report_cells(entry.candidate, entry.identity)
    reason = [_cell(entry.candidate.reason)]
    if not entry.movements:
        return [head + _movement_cells(None) + reason]
    return [head + _movement_cells(movement) + reason for movement in entry.movements]


def _suspicious_row(entry: SuspiciousEntry) -> list[str]:
    head = _report_cells(entry.candidate, entry.identity)
    references = " ".join(entry.candidate.transaction_refs)
    return head + [references] + [""] * 7 + [_cell(entry.candidate.reason)]


def report_csv(report: DailyReport) -> bytes:
    """The header row, then the large-value rows, then the suspicious rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in report.large_value:
        writer.writerows(_large_value_rows(entry))
    for suspicious in report.suspicious:
        writer.writerow(_suspicious_row(suspicious))
    return out.getvalue().encode("utf-8-sig")


# ------------------------------------------------------------------------------ XML


def _tag(name: str) -> str:
    return f"{{{XML_NAMESPACE}}}{name}"


def _set(element: ET.Element, **attributes: str | None) -> ET.Element:
    for key, value in attributes.items():
        if value is not None:
            element.set(key, value)
    return element


def _money(parent: ET.Element, name: str, amount: Money, **extra: str) -> ET.Element:
    return _set(
        ET.SubElement(parent, _tag(name)),
        amount=amount.to_decimal_string(),
        currency=amount.currency,
        **extra,
    )


def _candidate(parent: ET.Element, name: str, candidate: CandidateView) -> ET.Element:
    return _set(
        ET.SubElement(parent, _tag(name)),
        id=candidate.id,
        category=candidate.category,
        rule=candidate.rule_name,
        state=candidate.state,
        businessDay=candidate.business_day.isoformat(),
        dueDate=candidate.due_date.isoformat(),
    )


def _subject(parent: ET.Element, candidate: CandidateView, identity: Identity | None) -> None:
    who = identity or Identity()
    _set(
        ET.SubElement(parent, _tag("subject")),
        type=candidate.subject_type,
        id=candidate.subject_id,
        name=who.name,
        idType=who.id_type,
        idNumber=who.id_number,
    )


def _movement(parent: ET.Element, movement: Movement) -> None:
    element = _money(
        parent,
        "transaction",
        movement.amount,
        ref=movement.reference,
        occurredAt=_local(movement.occurred_at),
        direction=movement.direction,
        channel=movement.channel,
    )
    _set(
        ET.SubElement(element, _tag("counterparty")),
        type=movement.counterparty_type,
        id=movement.counterparty_id,
        name=movement.counterparty_name,
    )


def report_xml(report: DailyReport) -> bytes:
    """``<amlDailyReport>`` with ``<largeValueReports>`` and ``<suspiciousCandidates>``."""
    ET.register_namespace("", XML_NAMESPACE)
    root = _set(
        ET.Element(_tag("amlDailyReport")),
        schemaVersion=SCHEMA_VERSION,
        businessDay=report.day.isoformat(),
        generatedAt=_local(report.generated_at),
    )
    large = _set(ET.SubElement(root, _tag("largeValueReports")), count=str(len(report.large_value)))
    for entry in report.large_value:
        element = _candidate(large, "report", entry.candidate)
        _subject(element, entry.candidate, entry.identity)
        _money(
            element,
            "dayTotal",
            entry.candidate.amount,
            transactions=str(entry.candidate.transaction_count),
        )
        ET.SubElement(element, _tag("reason")).text = entry.candidate.reason
        for movement in entry.movements:
            _movement(element, movement)
    suspicious = _set(
        ET.SubElement(root, _tag("suspiciousCandidates")), count=str(len(report.suspicious))
    )
    for candidate_entry in report.suspicious:
        element = _candidate(suspicious, "candidate", candidate_entry.candidate)
        _subject(element, candidate_entry.candidate, candidate_entry.identity)
        _money(element, "amount", candidate_entry.candidate.amount)
        ET.SubElement(element, _tag("reason")).text = candidate_entry.candidate.reason
        for reference in candidate_entry.candidate.transaction_refs:
            ET.SubElement(element, _tag("reference")).text = reference
    out = io.BytesIO()
    ET.ElementTree(root).write(out, encoding="UTF-8", xml_declaration=True)
    return out.getvalue()
