"""The large-cash report as CSV, for the compliance officer's spreadsheet.

UTF-8 with a byte-order mark (spreadsheet programs on Chinese Windows then read it right),
column names in Chinese and English, times in Asia/Shanghai, amounts as plain decimals.
A cell that a spreadsheet would take for a formula is quoted with a leading apostrophe.
Pure: no SQL.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import TYPE_CHECKING, Final

from ewallet.counter.views import LargeCashView
from ewallet.risk.limits import CHINA_TIME

if TYPE_CHECKING:
    from ewallet.counter.service.reading import LargeCashReport

COLUMNS: Final = (
    "时间 Time (UTC+8)",
    "记录编号 Record",
    "存款编号 Deposit",
    "客户姓名 Customer name",
    "手机号 Phone",
    "金额 Amount",
    "币种 Currency",
    "网点 Branch",
    "收款柜员 Teller",
    "存款状态 Deposit state",
    "审批主管 Approved by",
    "审批时间 Approved at (UTC+8)",
)
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def _local(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _row(record: LargeCashView) -> list[str]:
    return [
        _local(record.occurred_at),
        record.id,
        record.deposit_id,
        _cell(record.customer_name_masked or ""),
        record.phone_masked,
        record.amount.to_decimal_string(),
        record.amount.currency,
        record.branch,
        _cell(record.teller_name or record.teller_id),
        record.deposit_status,
        _cell(record.approver_name or record.approved_by or ""),
        _local(record.approved_at),
    ]


def large_cash_csv(report: LargeCashReport) -> bytes:
    """The report: a title line with its Beijing days, a blank line, then one row each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    days = f"{report.window.first.isoformat()} – {report.window.last.isoformat()}"
    writer.writerow(["大额现金记录 Large-cash records", days])
    writer.writerow([])
    writer.writerow(COLUMNS)
    for record in report.records:
        writer.writerow(_row(record))
    return out.getvalue().encode("utf-8-sig")
