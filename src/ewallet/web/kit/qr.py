"""QR codes as inline SVG (segno), for the pages that show one: an authenticator's
``otpauth://`` enrolment in the wallet and in the console's staff administration."""

from __future__ import annotations

import segno
from markupsafe import Markup, escape


def qr_svg(uri: str, label: str) -> Markup:
    """``uri`` as an inline SVG QR code, labelled for screen readers."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, svgclass="qr", omitsize=True)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S704 -- segno's own markup
