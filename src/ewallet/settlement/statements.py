"""A settlement's statement for the merchant: CSV for its books, PDF to read and file.

Both list the window's payments and refunds (fee per line; refunds negative), then the
totals: gross, refunds, fees, the net the ledger moved, what was carried in from earlier
days, what was paid and to which account (masked), and what is carried forward. Times are
Asia/Shanghai. The PDF embeds the CJK font found on the machine (:mod:`ewallet.kit.cjk_font`),
as counter receipts and account statements do. Pure: no SQL.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Final
from xml.sax.saxutils import escape

from ewallet.kit.cjk_font import register_cjk_font
from ewallet.kit.money import Money
from ewallet.risk.limits import CHINA_TIME
from ewallet.settlement.views import Statement

# A party's first window starts at the settlement service's epoch (everything before).
FIRST_WINDOW_START: Final = datetime(2000, 1, 1, tzinfo=UTC)
CSV_COLUMNS: Final = ("type", "id", "order_id", "reference", "time", "amount", "fee", "currency")
STATUS_LABELS: Final = {
    "carried": ("结转下期", "Carried forward"),
    "processing": ("付款中", "Paying"),
    "pending": ("待银行确认", "Awaiting the bank"),
    "paid": ("已付款", "Paid"),
    "failed": ("付款失败，款项结转", "Failed, carried forward"),
}


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _period(start: datetime, end: datetime) -> str:
    if start <= FIRST_WINDOW_START:
        return f"首次结算，截至 {_local(end)} / first settlement: all up to {_local(end)}"
    return f"{_local(start)} – {_local(end)}"


def _figures(amount: Money) -> str:
    sign = "-" if amount.minor < 0 else ""
    whole, cents = divmod(abs(amount.minor), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def summary_rows(statement: Statement) -> list[tuple[str, str]]:
    """The totals, label (Chinese and English) and value, in print order."""
    row = statement.settlement
    zh, en = STATUS_LABELS.get(row.status, (row.status, row.status))
    account = "" if row.account_last4 is None else f"{row.bank_code} **** {row.account_last4}"
    rows = [
        ("商户 Merchant", f"{statement.party_name} ({row.party_id})"),
        ("结算日 Business day", row.business_day.isoformat()),
        ("结算编号 Settlement", row.id),
        ("期间 Period (UTC+8)", _period(row.period_start, row.period_end)),
        ("交易总额 Payments", _figures(row.gross)),
        ("退款 Refunds", _figures(Money(-row.refunds.minor, row.refunds.currency))),
        ("手续费 Fees", _figures(Money(-row.fees.minor, row.fees.currency))),
        ("本期净额 Net of the period", _figures(row.net)),
        ("上期结转 Carried in", _figures(row.carried_in)),
        ("本次付款 Paid out", _figures(row.amount)),
        ("收款账户 To account", account),
        ("结转下期 Carried forward", _figures(row.carried_out)),
        ("状态 State", f"{zh} / {en}"),
    ]
    if row.bank_reference:
        rows.append(("银行流水 Bank reference", row.bank_reference))
    if row.failure_reason and row.status != "paid":
        rows.append(("说明 Note", row.failure_reason))
    return rows


def statement_csv(statement: Statement) -> str:
    """One line per payment and refund (amounts in yuan, refunds negative), then the totals
    as ``total`` lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in statement.lines:
        writer.writerow(
            (
                line.kind,
                line.id,
                line.order_id,
                line.out_trade_no or "",
                _local(line.occurred_at),
                line.amount.to_decimal_string(),
                line.fee.to_decimal_string(),
                line.amount.currency,
            )
        )
    row = statement.settlement
    currency = row.amount.currency
    for name, money in (
        ("gross", row.gross),
        ("refunds", row.refunds),
        ("fees", row.fees),
        ("net", row.net),
        ("carried_in", row.carried_in),
        ("paid", row.amount),
        ("carried_out", row.carried_out),
    ):
        writer.writerow(("total", name, "", "", "", money.to_decimal_string(), "", currency))
    return buffer.getvalue()


def statement_pdf(statement: Statement) -> bytes:
    """The statement on A4: title, the totals, the lines."""
    from reportlab.lib import colors  # noqa: PLC0415 -- heavy; PDFs only
    from reportlab.lib.enums import TA_RIGHT  # noqa: PLC0415
    from reportlab.lib.pagesizes import A4  # noqa: PLC0415
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
    row = statement.settlement
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"结算单 Settlement statement {row.business_day}",
        author="ewallet",
    )
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=21)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=16)
    cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    figure = ParagraphStyle("figure", parent=small, alignment=TA_RIGHT)
    summary = Table(
        [
            [Paragraph(label, cell), Paragraph(escape(value), cell)]
            for label, value in summary_rows(statement)
        ],
        colWidths=[50 * mm, 125 * mm],
        hAlign="LEFT",
    )
    summary.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                ("BACKGROUND", (0, 9), (-1, 9), colors.whitesmoke),
            ]
        )
    )
    header = ["类型 Type", "时间 Time", "订单 Order", "金额 Amount", "手续费 Fee"]
    body = [[Paragraph(text, figure if index > 2 else small) for index, text in enumerate(header)]]
    for line in statement.lines:
        kind = "支付 payment" if line.kind == "payment" else "退款 refund"
        body.append(
            [
                Paragraph(kind, small),
                Paragraph(_local(line.occurred_at), small),
                Paragraph(escape(line.out_trade_no or line.order_id), small),
                Paragraph(_figures(line.amount), figure),
                Paragraph(_figures(line.fee), figure),
            ]
        )
    lines = Table(
        body, colWidths=[28 * mm, 38 * mm, 59 * mm, 28 * mm, 22 * mm], hAlign="LEFT", repeatRows=1
    )
    lines.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
                ("ALIGN", (3, 0), (4, -1), "RIGHT"),
            ]
        )
    )
    story = [
        Paragraph("结算单 Settlement statement", title),
        Spacer(1, 4 * mm),
        summary,
        Spacer(1, 6 * mm),
        Paragraph(f"明细 Payments and refunds ({len(statement.lines)})", heading),
        Spacer(1, 2 * mm),
    ]
    if statement.lines:
        story.append(lines)
    else:
        story.append(Paragraph("本期无交易。No payments or refunds in this period.", cell))
    document.build(story)
    return buffer.getvalue()
