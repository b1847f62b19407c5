"""A counter deposit's printed receipt: the slip the customer takes home and the branch
files, as a PDF with Chinese and English side by side.

It shows the branch, the receipt number, the customer masked, the amount in figures and in
Chinese capital numerals (大写, :func:`amount_in_capitals`), the teller and the deciding
supervisor, the times (Beijing time in words, in both languages: :mod:`ewallet.kit.human_time`)
and the state -- a waiting or rejected deposit says plainly that nothing was credited. The
PDF embeds the CJK font found on the machine at run time (:mod:`ewallet.kit.cjk_font`), as
the bill receipts and statements do. Pure: no SQL.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Final
from xml.sax.saxutils import escape

from ewallet.counter.views import DepositReceipt
from ewallet.kit.cjk_font import register_cjk_font
from ewallet.kit.human_time import in_words
from ewallet.kit.i18n import EN, ZH_CN
from ewallet.kit.money import Money
from ewallet.models.counter import DepositStatus

DIGITS: Final = "零壹贰叁肆伍陆柒捌玖"
# The places inside a group of four digits: units, tens, hundreds, thousands.
PLACES: Final = ("", "拾", "佰", "仟")
TEN_THOUSAND: Final = 10**4
HUNDRED_MILLION: Final = 10**8

STATES: Final = {
    DepositStatus.COMPLETED: ("已入账", "Credited"),
    DepositStatus.AWAITING_APPROVAL: (
        "待主管审批，尚未入账",
        "Awaiting approval, not credited yet",
    ),
    DepositStatus.REJECTED: ("已拒绝，未入账", "Rejected, not credited"),
}
NOTES: Final = {
    DepositStatus.COMPLETED: (
        "款项已存入客户钱包。请核对金额并妥善保管本回执。",
        "The cash is in the customer's wallet. Check the amount and keep this receipt.",
    ),
    DepositStatus.AWAITING_APPROVAL: (
        "大额现金须经另一名主管审批后入账。审批前本回执不作入账凭证。",
        "Large cash is credited only after a second supervisor approves it. Until then this "
        "receipt is no proof of a credit.",
    ),
    DepositStatus.REJECTED: (
        "本笔存款未入账，现金已退还客户。",
        "This deposit was not credited; the cash was handed back to the customer.",
    ),
}


def _group(number: int) -> str:
    """1..9999 in capitals: one 零 for any run of zeros inside, none at the end."""
    text, zero = [], False
    digits = str(number)
    for index, character in enumerate(digits):
        digit = int(character)
        if digit == 0:
            zero = True
            continue
        if zero:
            text.append(DIGITS[0])
            zero = False
        text.append(DIGITS[digit] + PLACES[len(digits) - 1 - index])
    return "".join(text)


def _lower(rest: int, base: int) -> str:
    """The part below 万 or 亿; a 零 first when its top place is empty (壹万零伍佰)."""
    if rest == 0:
        return ""
    return (DIGITS[0] if rest < base // 10 else "") + _whole(rest)


def _whole(number: int) -> str:
    """A positive whole number of yuan in capitals, grouped by 万 and 亿."""
    if number >= HUNDRED_MILLION:
        high, rest = divmod(number, HUNDRED_MILLION)
        return _whole(high) + "亿" + _lower(rest, HUNDRED_MILLION)
    if number >= TEN_THOUSAND:
        high, rest = divmod(number, TEN_THOUSAND)
        return _group(high) + "万" + _lower(rest, TEN_THOUSAND)
    return _group(number)


def amount_in_capitals(amount: Money) -> str:
    """A renminbi amount in Chinese capital numerals, as banks write it on a slip
    (¥1,409.50 → 人民币壹仟肆佰零玖元伍角; ¥16,409.02 → 人民币壹万陆仟肆佰零玖元零贰分;
    ¥50,000.00 → 人民币伍万元整).

    The PBoC's rules for slips: a run of zeros inside the number is one 零; an amount
    that ends at 元 ends with 整; 角 without 分 takes no 整; a 零 after 元 when the 角
    place is empty and 分 is not. Tens are written 壹拾 (so nothing can be put before them).
    """
    if amount.currency != "CNY":
        raise ValueError("capital numerals are written for renminbi")
    if amount.minor < 0:
        raise ValueError("a negative amount has no capital form on a slip")
    yuan, cents = divmod(amount.minor, 100)
    jiao, fen = divmod(cents, 10)
    words = ["人民币"]
    if yuan:
        words.append(_whole(yuan) + "元")
    if jiao == 0 and fen == 0:
        words.append("整" if yuan else "零元整")
        return "".join(words)
    if jiao:
        words.append(DIGITS[jiao] + "角")
    elif yuan:
        words.append(DIGITS[0])
    if fen:
        words.append(DIGITS[fen] + "分")
    return "".join(words)


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return f"{in_words(moment, ZH_CN)} / {in_words(moment, EN)}"


def _figures(amount: Money) -> str:
    whole, cents = divmod(amount.minor, 100)
    return f"¥{whole:,}.{cents:02d} {amount.currency}"


def receipt_lines(receipt: DepositReceipt) -> list[tuple[str, str]]:
    """The receipt's rows, label (Chinese and English) and value, in print order."""
    deposit = receipt.deposit
    status = DepositStatus(deposit.status)
    state_zh, state_en = STATES[status]
    customer = receipt.phone_masked
    if receipt.customer_name_masked:
        customer = f"{receipt.customer_name_masked}  {customer}"
    lines = [
        ("回执号 Receipt no.", deposit.receipt_no),
        ("网点 Branch", deposit.branch),
        ("存款编号 Deposit ID", deposit.id),
        ("客户 Customer", customer),
        ("金额 Amount", _figures(deposit.amount)),
        ("大写 In words", amount_in_capitals(deposit.amount)),
        ("状态 State", f"{state_zh} / {state_en}"),
        ("收款柜员 Teller", deposit.teller_name or deposit.teller_id),
        ("收款时间 Cash taken", _local(deposit.created_at)),
    ]
    if deposit.decided_by is not None:
        decider = deposit.decider_name or deposit.decided_by
        if status is DepositStatus.REJECTED:
            lines.append(("拒绝人 Rejected by", decider))
            lines.append(("拒绝原因 Reason", deposit.reject_reason or ""))
            lines.append(("拒绝时间 Rejected at", _local(deposit.decided_at)))
        else:
            lines.append(("审批主管 Approved by", decider))
            lines.append(("审批时间 Approved at", _local(deposit.decided_at)))
    lines.append(("打印时间 Printed", _local(receipt.printed_at)))
    return lines


def receipt_pdf(receipt: DepositReceipt) -> bytes:
    """The receipt as an A5 page: title, the rows, the state's note and signature lines."""
    from reportlab.lib import colors  # noqa: PLC0415 -- heavy; PDFs only
    from reportlab.lib.pagesizes import A5  # noqa: PLC0415
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
    deposit = receipt.deposit
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A5,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"现金存款回执 {deposit.receipt_no}",
        author="ewallet",
    )
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=21)
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=12)
    cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    lines = receipt_lines(receipt)
    # Paragraphs read markup: the values (a reason, a name) are escaped to stay text.
    rows = [[Paragraph(label, cell), Paragraph(escape(value), cell)] for label, value in lines]
    table = Table(rows, colWidths=[38 * mm, 86 * mm], hAlign="LEFT")
    amount_row = next(i for i, (label, _) in enumerate(lines) if label.startswith("金额"))
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8c8d0")),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("BACKGROUND", (0, amount_row), (-1, amount_row + 1), colors.HexColor("#f3f3f6")),
            ]
        )
    )
    note_zh, note_en = NOTES[DepositStatus(deposit.status)]
    signatures = Table(
        [["客户签名 Customer signature", "", "柜员签章 Teller's stamp"], ["", "", ""]],
        colWidths=[58 * mm, 8 * mm, 58 * mm],
        rowHeights=[None, 14 * mm],
        hAlign="LEFT",
    )
    signatures.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 8),
                ("LINEBELOW", (0, 1), (0, 1), 0.5, colors.black),
                ("LINEBELOW", (2, 1), (2, 1), 0.5, colors.black),
            ]
        )
    )
    document.build(
        [
            Paragraph("现金存款回执 Cash deposit receipt", title),
            Paragraph(f"ewallet · 网点 Branch {deposit.branch}", small),
            Spacer(1, 5 * mm),
            table,
            Spacer(1, 4 * mm),
            Paragraph(note_zh, small),
            Paragraph(note_en, small),
            Spacer(1, 8 * mm),
            signatures,
        ]
    )
    return buffer.getvalue()
