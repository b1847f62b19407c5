"""The wallet's line icons as inline SVG (decorative: each one sits beside its words).

``{{ icon("topup") }}`` in a template (a global of the template environment). Kept as
ready markup rather than a Jinja macro: the tab bar draws four on every page, home a dozen.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from markupsafe import Markup

PATHS: Final[dict[str, str]] = {
    "topup": '<circle cx="12" cy="12" r="9"/><path d="M12 8v8M8 12h8"/>',
    "transfer": '<path d="M4 8h14l-3.5-3.5M20 16H6l3.5 3.5"/>',
    "pay": (
        '<rect x="4" y="4" width="6" height="6" rx="1"/>'
        '<rect x="14" y="4" width="6" height="6" rx="1"/>'
        '<rect x="4" y="14" width="6" height="6" rx="1"/>'
        '<path d="M14 14h2.5v2.5H14zM20 14v2.5M17.5 20H20M14 19.5V20"/>'
    ),
    "receive": (
        '<rect x="4" y="4" width="6" height="6"/><rect x="14" y="4" width="6" height="6"/>'
        '<rect x="4" y="14" width="6" height="6"/><path d="M14 14h2v2h-2zM18 18h2v2h-2z"/>'
    ),
    "withdraw": '<path d="M12 14V4M8 7.5 12 4l4 3.5"/><path d="M4 13v6h16v-6"/>',
    "cards": ('<rect x="3" y="6" width="18" height="12" rx="2"/><path d="M3 10h18M7 14.5h4"/>'),
    "bills": ('<path d="M6 3h12v18l-3-2-3 2-3-2-3 2z"/><path d="M9 8h6M9 12h6M9 16h3"/>'),
    "history": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3.5 2"/>',
    "help": (
        '<circle cx="12" cy="12" r="9"/>'
        '<path d="M9.6 9.4a2.5 2.5 0 1 1 3.4 2.4c-.6.3-1 .8-1 1.5v.5"/>'
        '<path d="M12 17h.01"/>'
    ),
    "bell": ('<path d="M6 16v-5a6 6 0 0 1 12 0v5l1.5 2h-15z"/><path d="M10 20.5a2 2 0 0 0 4 0"/>'),
    "shield": (
        '<path d="M12 3 5 6v5c0 4.5 3 8.2 7 10 4-1.8 7-5.5 7-10V6z"/><path d="m9 12 2 2 4-4"/>'
    ),
    "phone": '<rect x="7" y="3" width="10" height="18" rx="2"/><path d="M11 18h2"/>',
    "eye": (
        '<path d="M2.5 12S6 5.5 12 5.5 21.5 12 21.5 12 18 18.5 12 18.5 2.5 12 2.5 12z"/>'
        '<circle cx="12" cy="12" r="3"/>'
    ),
    "home": ('<path d="M4 11 12 4l8 7"/><path d="M6 9.5V20h12V9.5"/><path d="M10 20v-5h4v5"/>'),
    "me": (
        '<circle cx="12" cy="8.5" r="4"/>'
        '<path d="M4.5 20.5c1.2-3.8 4-5.5 7.5-5.5s6.3 1.7 7.5 5.5"/>'
    ),
    "chevron": '<path d="m9 6 6 6-6 6"/>',
}


@cache
def icon(name: str, size: int = 28) -> Markup:
    """The icon ``name`` at ``size`` pixels (an unknown name draws an empty square)."""
    return Markup(  # noqa: S704 -- our own constant markup, no outside text
        f'<svg class="icon" width="{size}" height="{size}" viewBox="0 0 24 24" fill="none" '
        'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" '
        f'stroke-linejoin="round" aria-hidden="true" focusable="false">{PATHS.get(name, "")}</svg>'
    )
