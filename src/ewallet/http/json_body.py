"""Strict JSON request bodies: one check, in front of every route of the app.

Python's ``json`` module is lenient in two ways that hurt a wallet: a key given twice
silently keeps its last value (a transfer of ``"1.00"`` then ``"2.00"`` moves 2.00), and a
lone UTF-16 surrogate (``"\\ud800"``) decodes into a ``str`` that no database driver can
store, so it surfaced as a ``500`` deep inside a use case. :class:`StrictJsonMiddleware`
reads every JSON body once, before routing, idempotency or authentication, and refuses
both with ``422 validation_error`` (API.md gives ``validation_error`` that status; a
malformed body has always answered it). The ``errors`` list names the kind
(``duplicate_key``, ``invalid_unicode``) and never echoes the offending text. Unknown
fields are the schemas' business: every request model inherits
:class:`ewallet.kit.request_model.RequestModel` (``extra="forbid"``).

Bodies that are not JSON (forms, files) pass untouched, as do syntax errors, which
FastAPI answers with its own ``json_invalid`` entry. Paths given as ``exempt_prefixes``
(the PSP notification endpoints, which must accept exactly what each PSP sends and verify
its signature over the raw bytes) are not inspected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ewallet.http.problem import problem_response
from ewallet.kit import i18n

DUPLICATE_KEY: Final = "duplicate_key"
INVALID_UNICODE: Final = "invalid_unicode"
_MESSAGES: Final = {
    DUPLICATE_KEY: "a key appears more than once in the same JSON object",
    INVALID_UNICODE: "the body is not valid UTF-8 or holds a lone UTF-16 surrogate",
}
# After json's decoding a surrogate pair has become one character: any surrogate left is lone.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class StrictJsonError(ValueError):
    """A JSON document we refuse; ``kind`` is ``duplicate_key`` or ``invalid_unicode``."""

    def __init__(self, kind: str) -> None:
        super().__init__(_MESSAGES[kind])
        self.kind = kind


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise StrictJsonError(DUPLICATE_KEY)
    return document


def _check_text(document: Any) -> None:
    """Refuse a lone surrogate in any key or string, at any depth (no recursion)."""
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise StrictJsonError(INVALID_UNICODE)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def strict_loads(body: bytes | str) -> Any:
    """Parse JSON (UTF-8 only), refusing duplicate keys and lone surrogates.

    Raises :class:`StrictJsonError` for those, ``json.JSONDecodeError`` for bad syntax.
    """
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise StrictJsonError(INVALID_UNICODE) from None
    document = json.loads(body, object_pairs_hook=_unique_keys)
    _check_text(document)
    return document


def refusal(body: bytes) -> str | None:
    """The kind of defect that makes ``body`` unacceptable, or None if it may go on."""
    try:
        strict_loads(body)
    except StrictJsonError as error:
        return error.kind
    except (ValueError, RecursionError):
        return None  # bad syntax: FastAPI answers it as before
    return None


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json``, as FastAPI parses them."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not media_type.startswith("application/"):
        return False
    return media_type == "application/json" or media_type.endswith("+json")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


class StrictJsonMiddleware:
    """Refuse JSON bodies with duplicate keys or broken Unicode before anything runs."""

    def __init__(self, app: ASGIApp, exempt_prefixes: Iterable[str] = ()) -> None:
        self.app = app
        self.exempt_prefixes = tuple(exempt_prefixes)

    def _inspects(self, scope: Scope) -> bool:
        if scope["type"] != "http" or not is_json_media_type(_header(scope, b"content-type")):
            return False
        return not str(scope.get("path", "")).startswith(self.exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._inspects(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before sending its body: nobody to answer
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        kind = refusal(body) if body else None
        if kind is not None:
            locale = i18n.negotiate_locale(_header(scope, b"accept-language"))
            errors = [{"loc": ["body"], "msg": _MESSAGES[kind], "type": kind}]
            response = problem_response(
                code="validation_error",
                status=422,
                locale=locale,
                extra={"errors": errors},
                scope=scope,
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
