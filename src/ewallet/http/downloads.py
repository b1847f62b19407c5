"""A file answered for download (a statement, a receipt, a printable sheet): its bytes, type
and file name, never kept by a shared cache (``Cache-Control: no-store``: the files hold
people's money and names)."""

from __future__ import annotations

from typing import Final

from fastapi import Response

NO_STORE: Final = {"Cache-Control": "no-store"}
CSV: Final = "text/csv; charset=utf-8"
PDF: Final = "application/pdf"


def download(
    content: bytes | str, *, media_type: str, filename: str, inline: bool = False
) -> Response:
    """``content`` as ``filename``: saved by the browser, or shown in it when ``inline``."""
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"', **NO_STORE},
    )
