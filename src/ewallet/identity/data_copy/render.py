"""A data copy as JSON (everything, machine-readable) and as PDF (the same, for people).

Pure: no SQL, no I/O but the CJK font (:mod:`ewallet.kit.cjk_font`). Decisions
(docs/account-closure.md): it is the owner's own data, so the JSON carries the full real
name; the ID number appears as stored for display (masked to its last four) in both, since
the full number is kept only encrypted for checks and a copy lying in a download folder
should not be the one place it leaks from. Card numbers were never stored: bank, type and
last four. Amounts are decimal strings in major units, times RFC 3339 in UTC (the PDF
shows Asia/Shanghai).
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any, Final

from ewallet.identity.data_copy.views import PersonalData
from ewallet.kit.cjk_font import register_cjk_font
from ewallet.kit.money import Money

SECTION_TITLES: Final = {
    "profile": "个人资料 Profile",
    "settings": "设置 Settings",
    "balances": "余额 Balances",
    "cards": "银行卡 Cards",
    "transactions": "交易记录 Transactions",
    "devices": "设备 Devices",
    "sessions": "登录会话 Sessions",
    "notices": "通知 Notices",
    "security_events": "安全事件 Security events",
    "tickets": "工单 Tickets",
}


def money_text(minor: int | None, currency: str) -> str | None:
    return None if minor is None else Money(minor, currency).to_decimal_string()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def copy_json(data: PersonalData) -> str:
    document = {"generated_at": data.generated_at, **_plain(data.sections)}
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False)


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items())
    return "" if value is None else str(value)


def copy_pdf(data: PersonalData) -> bytes:
    """Every section as a titled table, A4, with an embedded CJK font and page numbers."""
    from reportlab.lib import colors  # noqa: PLC0415 -- heavy; PDFs only
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
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=16)
    cell = ParagraphStyle("cell", fontName=font, fontSize=7, leading=9)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title="个人信息副本 A copy of my data",
        author="ewallet",
    )
    story: list[Any] = [
        Paragraph("个人信息副本 A copy of my data", title),
        Paragraph(f"生成时间 Generated {data.generated_at} (UTC)", cell),
        Spacer(1, 4 * mm),
    ]
    for key, label in SECTION_TITLES.items():
        section = _plain(data.sections.get(key))
        story.append(Paragraph(label, heading))
        rows = [section] if isinstance(section, dict) else (section or [])
        if not rows:
            story.append(Paragraph("无 None", cell))
            story.append(Spacer(1, 3 * mm))
            continue
        columns = list(rows[0].keys())
        table_rows = [[Paragraph(column, cell) for column in columns]]
        table_rows += [
            [Paragraph(_cell(row.get(column)), cell) for column in columns] for row in rows
        ]
        width = (A4[0] - 24 * mm) / len(columns)
        table = Table(table_rows, colWidths=[width] * len(columns), repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF6")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#B0B8C4")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [table, Spacer(1, 4 * mm)]

    def page_number(canvas: Any, doc: Any) -> None:
        canvas.setFont(font, 7)
        canvas.drawRightString(
            A4[0] - 12 * mm, 7 * mm, f"ewallet · 第 {doc.page} 页 Page {doc.page}"
        )

    document.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return buffer.getvalue()
