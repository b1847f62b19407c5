"""Interactive API docs that work offline: Swagger UI served from the installed package.

FastAPI's default ``/docs`` pulls Swagger UI from a CDN, which a bank's internal network or a
laptop on a train cannot reach. We serve the files of ``swagger-ui-bundle-v2`` (Swagger UI 5,
which reads the OpenAPI 3.1 document FastAPI writes) under ``/docs/static``. The document
itself is FastAPI's, with every operation's problem answers added when it is first built
(:mod:`ewallet.openapi.problems`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from ewallet.openapi.problems import install_problem_responses

DOCS_PATH: Final = "/docs"
STATIC_PATH: Final = "/docs/static"


def swagger_ui_dir() -> Path:
    return Path(str(swagger_ui_bundle.swagger_ui_path))


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` (the app is created with ``docs_url=None``) and describe
    every operation's problem answers in the OpenAPI document it shows."""
    install_problem_responses(app)
    app.mount(STATIC_PATH, StaticFiles(directory=swagger_ui_dir()), name="swagger-ui")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{root}{STATIC_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_PATH}/favicon-32x32.png",
        )
