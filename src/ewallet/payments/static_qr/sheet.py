"""The printed static QR code (收款码): one A6 or A5 page to stand on a counter or stick on
a wall.

From the top: the merchant's name, the store's name (if the code is a store's), the QR
code -- drawn as vector squares from segno's matrix, so it prints sharp at any size -- the
fixed amount if the code has one, and "scan with ewallet to pay" in Chinese and English.
The CJK font is the one statements and receipts embed (:mod:`ewallet.kit.cjk_font`). A short
reference (the token's last characters) in the corner lets support tell sheets apart
without printing anything secret. Pure: no SQL.
"""

from __future__ import annotations

import io
from typing import Any, Final, Literal
from xml.sax.saxutils import escape

import segno

from ewallet.kit.cjk_font import register_cjk_font
from ewallet.payments.static_qr.views import PrintableCode

SheetSize = Literal["a6", "a5"]
QUIET_ZONE: Final = 4  # modules of white around the code, as ISO/IEC 18004 asks
INK: Final = "#1b1b1f"
BRAND: Final = "#1565c0"
REFERENCE_CHARS: Final = 6


def reference(token: str) -> str:
    """The short reference printed in the corner (not enough of the token to pay with)."""
    return token[-REFERENCE_CHARS:].upper()


def sheet_pdf(code: PrintableCode, *, size: SheetSize = "a6") -> bytes:
    """The sheet as a one-page PDF."""
    from reportlab.lib import colors  # noqa: PLC0415 -- heavy; PDFs only
    from reportlab.lib.enums import TA_CENTER  # noqa: PLC0415
    from reportlab.lib.pagesizes import A5, A6  # noqa: PLC0415
    from reportlab.lib.styles import ParagraphStyle  # noqa: PLC0415
    from reportlab.lib.units import mm  # noqa: PLC0415
    from reportlab.pdfgen.canvas import Canvas  # noqa: PLC0415
    from reportlab.platypus import Paragraph  # noqa: PLC0415

    font = register_cjk_font()
    width, height = A6 if size == "a6" else A5
    unit = width / (105 * mm)  # 1.0 on A6, about 1.41 on A5: everything scales together
    margin = 8 * mm * unit
    buffer = io.BytesIO()
    title = f"收款码 {code.store_name or code.merchant_name}"
    canvas = Canvas(buffer, pagesize=(width, height))
    canvas.setTitle(title)
    canvas.setAuthor("ewallet")
    canvas.setSubject(code.url)

    # A band across the top, with the wallet's name.
    band = 14 * mm * unit
    canvas.setFillColor(colors.HexColor(BRAND))
    canvas.rect(0, height - band, width, band, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.setFont(font, 13 * unit)
    canvas.drawCentredString(width / 2, height - band + 4.8 * mm * unit, "ewallet 收款码")

    def paragraph(text: str, size_pt: float, top: float, color: str = INK) -> float:
        """Centre ``text`` (wrapped) with its top at ``top``; return where it ends."""
        style = ParagraphStyle(
            "sheet",
            fontName=font,
            fontSize=size_pt * unit,
            leading=size_pt * unit * 1.3,
            alignment=TA_CENTER,
            textColor=colors.HexColor(color),
            wordWrap="CJK",
        )
        block = Paragraph(escape(text), style)
        _, used = block.wrap(width - 2 * margin, height)
        block.drawOn(canvas, margin, top - used)
        return top - used

    y = height - band - 5 * mm * unit
    y = paragraph(code.merchant_name, 15, y)
    if code.store_name:
        y = paragraph(code.store_name, 11, y - 1 * mm * unit, color="#55555f")

    # The QR code, as large as the space between the names and the footer allows.
    footer = 34 * mm * unit
    side = min(width - 2 * margin, y - 3 * mm * unit - footer)
    bottom = y - 3 * mm * unit - side
    _draw_qr(canvas, code.url, left=(width - side) / 2, bottom=bottom, side=side)

    y = bottom - 2 * mm * unit
    if code.fixed_amount is not None:
        whole, cents = divmod(code.fixed_amount.minor, 100)
        y = paragraph(f"¥{whole:,}.{cents:02d}", 16, y)
    y = paragraph("请使用 ewallet 扫码付款", 13, y - 1 * mm * unit)
    paragraph("Scan with ewallet to pay", 10, y, color="#55555f")

    canvas.setFillColor(colors.HexColor("#8a8a94"))
    canvas.setFont(font, 6.5 * unit)
    canvas.drawRightString(width - margin, 5 * mm * unit, f"No. {reference(code.token)}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_qr(canvas: Any, url: str, *, left: float, bottom: float, side: float) -> None:
    """``url`` as a QR code in the square at (``left``, ``bottom``), one filled rectangle
    per run of dark modules in a row (a smaller file than one per module)."""
    from reportlab.lib import colors  # noqa: PLC0415 -- heavy; PDFs only

    modules = [list(row) for row in segno.make(url, error="m").matrix_iter(border=QUIET_ZONE)]
    count = len(modules)
    cell = side / count
    canvas.setFillColor(colors.white)
    canvas.rect(left, bottom, side, side, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    for row_index, row in enumerate(modules):
        top = bottom + side - (row_index + 1) * cell
        column = 0
        while column < count:
            if not row[column]:
                column += 1
                continue
            start = column
            while column < count and row[column]:
                column += 1
            canvas.rect(left + start * cell, top, (column - start) * cell, cell, stroke=0, fill=1)
