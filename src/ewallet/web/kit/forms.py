"""Reading a posted form, with its CSRF token checked first.

``form: PostedForm`` in a handler gives the fields of an ``application/x-www-form-urlencoded``
body (at most 16 KiB and 50 fields; the first value of each name) after the CSRF token was
checked: a form without the right token is answered ``403`` with nothing read, counted or
changed. A field absent is ``""``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Mapping
from typing import Annotated, Final
from urllib.parse import parse_qs

from fastapi import Depends, Request

from ewallet.http.deps import ServicesDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError
from ewallet.kit.request_key import RequestKey, request_digest
from ewallet.web.kit.auth import web_principal
from ewallet.web.kit.csrf import FIELD, HEADER, token_ok

MAX_FORM_BYTES: Final = 16 * 1024
MAX_FIELDS: Final = 50


class CsrfRefused(Exception):  # noqa: N818 -- answered with a 403 page
    """A state-changing request without this browser's form token."""


class Form(Mapping[str, str]):
    """A posted form's fields; a missing one reads as ``""``."""

    def __init__(self, fields: dict[str, str]) -> None:
        self._fields = fields

    def __getitem__(self, name: str) -> str:
        return self._fields.get(name, "")

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def text(self, name: str) -> str:
        """The field stripped of surrounding blanks."""
        return self[name].strip()


async def read_form(request: Request, *, max_bytes: int = MAX_FORM_BYTES) -> Form:
    """The form's fields; an oversized or undecodable body reads as no field at all."""
    body = await request.body()
    if len(body) > max_bytes:
        return Form({})
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return Form({})
    return Form({name: values[0] for name, values in fields.items()})


async def checked_form(request: Request, expected: str, *, max_bytes: int) -> Form:
    """The posted form if it carries ``expected`` (the hidden field, or the
    ``X-CSRF-Token`` header); :class:`CsrfRefused` otherwise, with nothing read further."""
    form = await read_form(request, max_bytes=max_bytes)
    given = form[FIELD] or request.headers.get(HEADER, "")
    if not expected or not secrets.compare_digest(given, expected):
        raise CsrfRefused
    return form


async def posted_form(request: Request, services: ServicesDep) -> Form:
    await web_principal(request, services)  # the session the token is bound to, if any
    form = await read_form(request)
    if not token_ok(request, services, form[FIELD] or None):
        raise CsrfRefused
    return form


PostedForm = Annotated[Form, Depends(posted_form)]


SECRET_FIELDS: Final = frozenset({"csrf", "password", "payment_password", "pin", "code"})


def form_request_key(user_id: str, form: Form, purpose: str) -> RequestKey | None:
    """The request key of a money form, for services that take ``request_key``.

    Every money form carries a ``form_key`` made when it was shown (``page()`` puts a fresh
    one in each render's context). The same form posted twice (a double tap, a reload that
    re-posts, a retry after a network failure) gives the same key, so the service finds
    the operation the first post made and answers its state instead of moving money again;
    a changed amount is another request. Secrets never enter the digest."""
    key = form["form_key"]
    if not 16 <= len(key) <= 64:
        return None
    body = "&".join(f"{name}={form[name]}" for name in sorted(form) if name not in SECRET_FIELDS)
    body_hash = hashlib.sha256(body.encode()).hexdigest()
    return RequestKey(request_digest(f"web:user:{user_id}", f"{purpose}:{key}", body_hash))


def amount_minor_or_none(text: str) -> int | None:
    """A typed amount in fen, or None when it is not one (a page that keeps the form's
    amount as typed and only needs its value where it parses)."""
    try:
        return parse_amount(text).minor
    except DomainError:
        return None
