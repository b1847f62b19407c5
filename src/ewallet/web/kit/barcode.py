"""Code 128 barcodes as inline SVG, for a cashier's laser scanner (the payment code page).

A run of digits of even length is written in code set C (two digits a symbol: an 18-digit
payment code takes nine), anything else printable in ASCII in code set B. The symbol is
start, data, the modulo-103 check symbol and stop, with a quiet zone of ten modules each
side. The SVG is one ``<path>`` of bars on a white rectangle, sized by the page's
stylesheet (``viewBox`` only, no ``style`` attribute: the pages' CSP forbids inline styles).
"""

from __future__ import annotations

from typing import Final

# Bar and space widths (in modules) of symbols 0-106: bar, space, bar, space, bar, space
# (the stop symbol, 106, ends with a seventh element, a bar).
TABLE: Final = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 "
    "221312 231212 112232 122132 122231 113222 123122 123221 223211 221132 "
    "221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 "
    "212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 "
    "231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 "
    "231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 "
    "112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 "
    "111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 "
    "214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 "
    "114131 311141 411131 211412 211214 211232 2331112"
)
PATTERNS: Final = tuple(TABLE.split())
START_B: Final = 104
START_C: Final = 105
STOP: Final = 106
QUIET_MODULES: Final = 10


def symbols(text: str) -> list[int]:
    """The symbol values of ``text``: start, data, check symbol, stop.

    Raises ``ValueError`` for an empty text or a character outside printable ASCII.
    """
    if not text:
        raise ValueError("nothing to encode")
    if text.isascii() and text.isdigit() and len(text) % 2 == 0:
        data = [START_C] + [int(text[i : i + 2]) for i in range(0, len(text), 2)]
    else:
        if any(not 32 <= ord(char) <= 126 for char in text):
            raise ValueError("Code 128 set B encodes printable ASCII only")
        data = [START_B] + [ord(char) - 32 for char in text]
    check = (data[0] + sum(position * value for position, value in enumerate(data[1:], 1))) % 103
    return [*data, check, STOP]


def modules(text: str) -> list[int]:
    """The widths of bars and spaces in order, starting with a bar (quiet zones excluded)."""
    return [int(width) for value in symbols(text) for width in PATTERNS[value]]


def barcode_svg(text: str, *, height: int = 60, css_class: str = "barcode") -> str:
    """``text`` as a Code 128 barcode: an ``<svg>`` element to inline in a page.

    The caller labels it (``role="img"`` and ``aria-label`` on a wrapper, or the digits
    shown beside it); the drawing itself is hidden from assistive technology."""
    widths = modules(text)
    total = sum(widths) + 2 * QUIET_MODULES
    x = QUIET_MODULES
    bars: list[str] = []
    for index, width in enumerate(widths):
        if index % 2 == 0:
            bars.append(f"M{x} 0h{width}v{height}h-{width}z")
        x += width
    return (
        f'<svg class="{css_class}" viewBox="0 0 {total} {height}" preserveAspectRatio="none" '
        f'aria-hidden="true" focusable="false" shape-rendering="crispEdges">'
        f'<rect width="{total}" height="{height}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(bars)}"/></svg>'
    )
