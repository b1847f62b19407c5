"""The CJK TrueType font PDFs with Chinese text embed (statements, bill receipts).

The font is found on the machine at run time (fontconfig's ``fc-list``; Debian's
``fonts-wqy-zenhei`` is the one the setup installs) -- fonts are never shipped in the
repository. reportlab embeds only TrueType outlines, so CFF-based OpenType fonts (Noto
CJK's) are skipped in the search. reportlab is imported only when a PDF is made.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

FONT_NAME: Final = "StatementCJK"


class FontMissingError(RuntimeError):
    """No CJK TrueType font is installed: install fonts-wqy-zenhei (Debian)."""


@dataclass(frozen=True, slots=True)
class CjkFont:
    path: Path
    index: int


@cache
def find_cjk_font() -> CjkFont:
    """A TrueType font with Chinese glyphs, located through fontconfig (cached)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        raise FontMissingError("fontconfig (fc-list) is not installed")
    listing = subprocess.run(  # noqa: S603 -- a fixed program and arguments
        [fc_list, ":lang=zh", "--format", "%{file}|%{index}|%{fontformat}\n"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    ).stdout
    candidates = []
    for line in listing.splitlines():
        file, _, rest = line.partition("|")
        index, _, fmt = rest.partition("|")
        if fmt == "TrueType" and file.lower().endswith((".ttf", ".ttc")):
            candidates.append(CjkFont(Path(file), int(index or 0)))
    if not candidates:
        raise FontMissingError("no Chinese TrueType font: apt-get install fonts-wqy-zenhei")
    # The plain (not "Sharp"/bitmap, not mono) face sorts first: the lowest index.
    return min(candidates, key=lambda font: (font.path.name, font.index))


def register_cjk_font() -> str:
    """Register the font with reportlab (once per process); the name to style text with."""
    from reportlab.pdfbase import pdfmetrics  # noqa: PLC0415 -- heavy; PDFs only
    from reportlab.pdfbase.ttfonts import TTFont  # noqa: PLC0415

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        font = find_cjk_font()
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(font.path), subfontIndex=font.index))
    return FONT_NAME
