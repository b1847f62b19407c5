"""A receive code's URL as a QR image (segno): SVG for answers and pages, PNG for printing."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str) -> str:
    """The QR of ``url`` as an SVG document (no XML declaration), scaled for a phone screen."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False)
    return out.getvalue().decode()


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=8, border=2)
    return out.getvalue()
