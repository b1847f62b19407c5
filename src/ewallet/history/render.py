"""Statements as CSV and as PDF, in Chinese with English column names alongside.

CSV is UTF-8 with a byte-order mark, so spreadsheet programs on Chinese Windows open it
with the right encoding; its times are ISO 8601 with the offset written out
(``2026-03-15T12:00:00+08:00``), for programs that read it. The PDF is for people: every
page carries the issuer's name (``EWALLET_ISSUER_NAME``), the month and "第 1 页 / 共 3 页
Page 1 of 3"; times are Beijing time to the minute, as the web wallet shows them
(:mod:`ewallet.kit.human_time`). It embeds a CJK TrueType font found on the machine at run
time (:mod:`ewallet.kit.cjk_font`) -- fonts are never shipped in the repository. Pure:
no SQL, no I/O but the font.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any, Final

from ewallet.history.views import HistoryEntry, Statement
from ewallet.kit.cjk_font import register_cjk_font
from ewallet.kit.human_time import compact, in_words, iso_local

TYPE_NAMES: Final = {
    "topup": "充值",
    "withdrawal": "提现",
    "card_transfer": "转账到银行卡",
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


def _signed(entry: HistoryEntry) -> str:
    return ("-" if entry.direction == "out" else "+") + entry.amount.to_decimal_string()


def _row(entry: HistoryEntry, shown: Callable[[HistoryEntry], str]) -> list[str]:
    return [
        shown(entry),
        entry.id,
        f"{TYPE_NAMES.get(entry.type, entry.type)} {entry.type}",
        "支出 out" if entry.direction == "out" else "收入 in",
        _signed(entry),
        entry.balance_after.to_decimal_string() if entry.balance_after else "",
        entry.counterparty or "",
        STATUS_NAMES.get(entry.status, entry.status),
    ]


def _summary(statement: Statement, issued: str) -> list[tuple[str, str]]:
    holder = statement.holder_phone
    if statement.holder_name:
        holder = f"{statement.holder_name} ({holder})"
    return [
        ("账户 Account", holder),
        ("出具机构 Issuer", statement.issuer),
        ("账单月份 Month", f"{statement.month}（北京时间 Beijing time）"),
        ("币种 Currency", statement.currency),
        ("期初余额 Opening balance", statement.opening.to_decimal_string()),
        ("收入合计 Total in", statement.total_in.to_decimal_string()),
        ("支出合计 Total out", statement.total_out.to_decimal_string()),
        ("期末余额 Closing balance", statement.closing.to_decimal_string()),
        ("笔数 Entries", str(len(statement.lines))),
        ("生成时间 Issued", issued),
    ]


def statement_csv(statement: Statement) -> bytes:
    """The statement as CSV: a summary block, a blank line, then one row per movement."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["钱包对账单 Wallet statement"])
    for label, value in _summary(statement, iso_local(statement.issued_at)):
        writer.writerow([label, value])
    writer.writerow([])
    writer.writerow(COLUMNS)
    for entry in statement.lines:
        writer.writerow(_row(entry, lambda e: iso_local(e.created_at)))
    return out.getvalue().encode("utf-8-sig")


def statement_pdf(statement: Statement) -> bytes:
    """The statement as an A4 PDF with Chinese text (an embedded CJK font); every page
    headed with the issuer and the month and numbered "第 n 页 / 共 N 页 Page n of N"."""
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
    note_style = ParagraphStyle("note", fontName=font, fontSize=8, leading=11)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=18 * mm,
        bottomMargin=16 * mm,
        title=f"钱包对账单 {statement.month}",
        author=statement.issuer,
    )
    issued = f"{in_words(statement.issued_at, 'zh-CN')} / {in_words(statement.issued_at, 'en')}"
    summary = Table(
        [[label, value] for label, value in _summary(statement, issued)],
        colWidths=[55 * mm, 140 * mm],
        hAlign="LEFT",
    )
    summary.setStyle(
        TableStyle([("FONT", (0, 0), (-1, -1), font, 9), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)])
    )
    rows: list[list[object]] = [list(COLUMNS)]
    for entry in statement.lines:
        cells: list[object] = list(_row(entry, lambda e: compact(e.created_at)))
        cells[6] = Paragraph(str(cells[6]), cell_style)  # counterparties can be long: wrap them
        rows.append(cells)
    if not statement.lines:
        rows.append(["本月无交易 No movements this month", "", "", "", "", "", "", ""])
    widths = [30, 52, 26, 20, 24, 24, 72, 18]
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
            Spacer(1, 3 * mm),
            Paragraph(
                "表中时间均为北京时间（UTC+8）。All times are Beijing time (UTC+8).", note_style
            ),
            Spacer(1, 3 * mm),
            movements,
        ],
        canvasmaker=_numbered_canvas(statement, font, landscape(A4)),
    )
    return buffer.getvalue()


def _numbered_canvas(statement: Statement, font: str, page_size: tuple[float, float]) -> Any:
    """A reportlab canvas class that heads each page with the issuer and the month and
    numbers it "第 n 页 / 共 N 页": the total is known only once every page is laid out,
    so pages are kept until ``save`` and drawn on then."""
    from reportlab.lib.units import mm  # noqa: PLC0415 -- heavy; PDFs only
    from reportlab.pdfgen.canvas import Canvas  # noqa: PLC0415

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 -- reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # as Canvas.showPage ends

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            width, height = page_size
            self.setFont(font, 8)
            self.setFillGray(0.35)
            self.drawString(12 * mm, height - 10 * mm, statement.issuer)
            self.drawRightString(
                width - 12 * mm, height - 10 * mm, f"钱包对账单 Wallet statement {statement.month}"
            )
            self.drawString(12 * mm, 8 * mm, f"{statement.issuer} · {statement.holder_phone}")
            self.drawRightString(
                width - 12 * mm,
                8 * mm,
                f"第 {number} 页 / 共 {total} 页  Page {number} of {total}",
            )

    return NumberedCanvas
