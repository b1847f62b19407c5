"""Statements as CSV and as PDF, in Chinese with English column names alongside.

CSV is UTF-8 with a byte-order mark, so spreadsheet programs on Chinese Windows open it
with the right encoding. The PDF embeds a CJK TrueType font found on the machine at run
time (:mod:`ewallet.kit.cjk_font`) -- fonts are never shipped in the repository. Pure:
no SQL, no I/O but the font.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Final

from ewallet.history.views import HistoryEntry, Statement
from ewallet.kit.cjk_font import register_cjk_font
from ewallet.risk.limits import CHINA_TIME

TYPE_NAMES: Final = {
    "topup": "充值",
    "withdrawal": "提现",
    "fee": "手续费",
    "transfer": "转账",
    "payment": "消费",
    "refund": "退款",
    "bill": "缴费",
    "reversal": "冲正",
    "adjustment": "调账",
}
STATUS_NAMES: Final = {"succeeded": "成功", "pending": "处理中", "reversed": "已冲正"}
COLUMNS: Final = (
    "时间 Time",
    "交易号 ID",
    "类型 Type",
    "收/支 In/Out",
    "金额 Amount",
    "余额 Balance",
    "对方 Counterparty",
    "状态 Status",
)


def _local(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _signed(entry: HistoryEntry) -> str:
    return ("-" if entry.direction == "out" else "+") + entry.amount.to_decimal_string()


def _row(entry: HistoryEntry) -> list[str]:
    return [
        _local(entry.created_at),
        entry.id,
        f"{TYPE_NAMES.get(entry.type, entry.type)} {entry.type}",
        "支出 out" if entry.direction == "out" else "收入 in",
        _signed(entry),
        entry.balance_after.to_decimal_string() if entry.balance_after else "",
        entry.counterparty or "",
        STATUS_NAMES.get(entry.status, entry.status),
    ]


def _summary(statement: Statement) -> list[tuple[str, str]]:
    holder = statement.holder_phone
    if statement.holder_name:
        holder = f"{statement.holder_name} ({holder})"
    return [
        ("账户 Account", holder),
        ("账单月份 Month", f"{statement.month} (Asia/Shanghai)"),
        ("币种 Currency", statement.currency),
        ("期初余额 Opening balance", statement.opening.to_decimal_string()),
        ("收入合计 Total in", statement.total_in.to_decimal_string()),
        ("支出合计 Total out", statement.total_out.to_decimal_string()),
        ("期末余额 Closing balance", statement.closing.to_decimal_string()),
        ("笔数 Entries", str(len(statement.lines))),
    ]


def statement_csv(statement: Statement) -> bytes:
    """The statement as CSV: a summary block, a blank line, then one row per movement."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["钱包对账单 Wallet statement"])
    for label, value in _summary(statement):
        writer.writerow([label, value])
    writer.writerow([])
    writer.writerow(COLUMNS)
    for entry in statement.lines:
        writer.writerow(_row(entry))
    return out.getvalue().encode("utf-8-sig")


def statement_pdf(statement: Statement) -> bytes:
    """The statement as an A4 PDF with Chinese text (an embedded CJK font)."""
    from reportlab.lib import colors  # noqa: PLC0415 -- heavy; PDFs only
    from reportlab.lib.pagesizes import A4, landscape  # noqa: PLC0415
    from reportlab.lib.styles import ParagraphStyle  # noqa: PLC0415
    from reportlab.lib.units import mm  # noqa: PLC0415
    from reportlab.platypus import (  # noqa: PLC0415
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = register_cjk_font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=16, leading=22)
    cell_style = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"钱包对账单 {statement.month}",
        author="ewallet",
    )
    summary = Table(
        [[label, value] for label, value in _summary(statement)],
        colWidths=[55 * mm, 120 * mm],
        hAlign="LEFT",
    )
    summary.setStyle(
        TableStyle([("FONT", (0, 0), (-1, -1), font, 9), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)])
    )
    rows: list[list[object]] = [list(COLUMNS)]
    for entry in statement.lines:
        cells: list[object] = list(_row(entry))
        cells[6] = Paragraph(str(cells[6]), cell_style)  # counterparties can be long: wrap them
        rows.append(cells)
    if not statement.lines:
        rows.append(["本月无交易 No movements this month", "", "", "", "", "", "", ""])
    widths = [32, 52, 26, 20, 24, 24, 70, 18]
    movements = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1)
    movements.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF6")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#B0B8C4")),
                ("ALIGN", (4, 1), (5, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    document.build(
        [
            Paragraph(f"钱包对账单 Wallet statement {statement.month}", title_style),
            Spacer(1, 4 * mm),
            summary,
            Spacer(1, 6 * mm),
            movements,
        ]
    )
    return buffer.getvalue()
