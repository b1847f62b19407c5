"""Receipts of paid bills: the facts a user shows a landlord or an auditor, and a PDF of them.

Only a ``succeeded`` payment has a receipt (``bill_receipt_not_ready`` before). The PDF
uses the statements' CJK font, found on the machine at run time
(:func:`ewallet.history.render.find_cjk_font`); fonts are never shipped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.bills.directory import get_biller_any
from ewallet.bills.errors import BillReceiptNotReadyError
from ewallet.bills.payments import BillPaymentView, get_bill_payment
from ewallet.history.render import FONT_NAME, find_cjk_font
from ewallet.integrations.biller.directory import BillerSpec
from ewallet.risk.limits import CHINA_TIME


@dataclass(frozen=True, slots=True)
class Receipt:
    payment: BillPaymentView
    biller: BillerSpec

    @property
    def receipt_no(self) -> str:
        assert self.payment.receipt_no is not None
        return self.payment.receipt_no

    @property
    def paid_at(self) -> datetime:
        assert self.payment.completed_at is not None
        return self.payment.completed_at


async def get_receipt(engine: AsyncEngine, *, payment_id: str, user_id: str) -> Receipt:
    payment = await get_bill_payment(engine, payment_id=payment_id, user_id=user_id)
    if payment.status != "succeeded":
        raise BillReceiptNotReadyError(
            f"the payment is {payment.status}; receipts exist for completed payments",
            status_of_payment=payment.status,
        )
    return Receipt(payment, await get_biller_any(engine, payment.biller_id))


def _register_font() -> str:
    from reportlab.pdfbase import pdfmetrics  # noqa: PLC0415 -- heavy; PDFs only
    from reportlab.pdfbase.ttfonts import TTFont  # noqa: PLC0415

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        font = find_cjk_font()
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(font.path), subfontIndex=font.index))
    return FONT_NAME


def receipt_lines(receipt: Receipt) -> list[tuple[str, str]]:
    payment, biller = receipt.payment, receipt.biller
    paid = receipt.paid_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")
    return [
        ("回执号 Receipt no.", receipt.receipt_no),
        ("缴费单位 Biller", f"{biller.name_zh} / {biller.name_en}"),
        ("户号 Account", payment.account_no_masked),
        ("户名 Holder", payment.holder_name_masked or ""),
        ("账期 Period", payment.period or ""),
        ("金额 Amount", f"{payment.amount.to_decimal_string()} {payment.amount.currency}"),
        ("缴费时间 Paid at", f"{paid} (UTC+8)"),
        ("交易参考号 Reference", payment.id),
        ("缴费单位确认号 Biller confirmation", payment.biller_confirmation or ""),
    ]


def receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt as an A5 PDF page with Chinese text (an embedded CJK font)."""
    from reportlab.lib.pagesizes import A5  # noqa: PLC0415 -- heavy; PDFs only
    from reportlab.lib.styles import ParagraphStyle  # noqa: PLC0415
    from reportlab.lib.units import mm  # noqa: PLC0415
    from reportlab.platypus import (  # noqa: PLC0415
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = _register_font()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A5,
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"缴费回执 {receipt.receipt_no}",
        author="ewallet",
    )
    title = Paragraph(
        "缴费回执 Bill payment receipt", ParagraphStyle("t", fontName=font, fontSize=14, leading=20)
    )
    table = Table(
        [list(line) for line in receipt_lines(receipt)], colWidths=[48 * mm, 80 * mm], hAlign="LEFT"
    )
    table.setStyle(
        TableStyle([("FONT", (0, 0), (-1, -1), font, 8), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)])
    )
    document.build([title, Spacer(1, 6 * mm), table])
    return buffer.getvalue()
