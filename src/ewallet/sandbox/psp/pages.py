"""The sandbox PSPs' one page: "pay this order", as a browser would see the cashier.

Deliberately tiny and dependency-free (no templates): a developer opens the QR code's URL,
sees the amount, presses the button, and the sandbox sends its notification.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse


def pay_page(*, brand: str, subject: str, amount: str, state: str, action: str) -> HTMLResponse:
    button = (
        f'<form method="post" action="{escape(action)}"><button type="submit">'
        f"Pay ¥{escape(amount)}</button></form>"
        if state == "unpaid"
        else f"<p>{escape(state)}</p>"
    )
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(brand)} sandbox</title></head><body>"
        f"<h1>{escape(brand)} sandbox</h1><p>{escape(subject)}</p>"
        f"<p><strong>¥{escape(amount)}</strong></p>{button}</body></html>"
    )


def paid_page(*, brand: str, trade_no: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(brand)} sandbox</title></head><body>"
        f"<h1>Paid</h1><p>{escape(brand)} trade {escape(trade_no)}</p></body></html>"
    )


def sandbox_url(request: Request, path: str) -> str:
    """An absolute URL of this sandbox, mounted (``/sandbox/alipay``) or standalone."""
    root = str(request.scope.get("root_path", ""))
    return str(request.url.replace(path=root + path, query=""))


def route_path(request: Request) -> str:
    """The path below the sandbox's mount point, as a client signs it (``/v3/...``)."""
    path, root = request.url.path, str(request.scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path
