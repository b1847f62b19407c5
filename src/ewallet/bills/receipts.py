"""A paid bill's receipt rendered: the facts a user shows a landlord or an auditor, as a PDF.

Only a ``succeeded`` payment has a receipt (:func:`ewallet.bills.service.get_receipt`).
The PDF uses the statements' CJK font, found on the machine at run time
(:mod:`ewallet.kit.cjk_font`); fonts are never shipped. The time it was paid is Beijing
time in words, in both languages (:mod:`ewallet.kit.human_time`). Pure: no SQL.
"""

from __future__ import annotations

import io

from ewallet.bills.views import Receipt
from ewallet.kit.cjk_font import register_cjk_font
from ewallet.kit.human_time import in_words
from ewallet.kit.i18n import EN, ZH_CN


def receipt_lines(receipt: Receipt) -> list[tuple[str, str]]:
    payment, biller = receipt.payment, receipt.biller
    paid = f"{in_words(receipt.paid_at, ZH_CN)} / {in_words(receipt.paid_at, EN)}"
    funding = payment.funding
    funded: list[tuple[str, str]] = []
    if funding is not None:  # paid (partly) by a bound card: the two parts
        currency = payment.amount.currency
        funded = [
            ("余额支付 From the balance", f"{funding.balance.to_decimal_string()} {currency}"),
            ("银行卡支付 With the bank card", f"{funding.card.to_decimal_string()} {currency}"),
        ]
    return [
        ("回执号 Receipt no.", receipt.receipt_no),
        ("缴费单位 Biller", f"{biller.name_zh} / {biller.name_en}"),
        ("户号 Account", payment.account_no_masked),
        ("户名 Holder", payment.holder_name_masked or ""),
        ("账期 Period", payment.period or ""),
        ("金额 Amount", f"{payment.amount.to_decimal_string()} {payment.amount.currency}"),
        *funded,
        ("缴费时间 Paid at", paid),
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

    font = register_cjk_font()
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
