"""Every operation's error answers in ``/openapi.json``, derived in one place.

FastAPI documents what an endpoint returns when it succeeds, plus a ``422`` with its own
``HTTPValidationError`` body as ``application/json``. Our errors are RFC 9457 problem
documents (:mod:`ewallet.http.problem`) with statuses that depend on what a route does. So
when the document is built, :func:`describe_problems` replaces the framework's ``422`` and
adds, to every operation, each status it can answer with, as ``application/problem+json``
and the ``Problem`` schema, naming the ``code`` values in the description. The codes come
from three sources, so no endpoint decorator repeats them:

- the route's shape: every operation may fail with ``500 internal_error``; one with
  parameters or a body answers ``422 validation_error``; one with path parameters
  ``404 not_found``; a write a maintenance window refuses ``503 maintenance`` (asked of
  :func:`ewallet.ops.enforcement.is_guarded` itself);
- what it depends on (:data:`DEPENDENCY_CODES`): a user, staff or merchant principal brings
  ``401``/``403``, a staff role check ``password_change_required``, ``Idempotent`` its
  ``400``/``409`` answers;
- :data:`ROUTE_CODES`, explicit codes per operation (``"POST /v1/transfers"``) for what its
  use case refuses, the payment-password check included (services own it): a new route
  adds its line there. A ``code`` resolves to its status
  through the :class:`~ewallet.kit.errors.DomainError` subclasses, so a table entry cannot
  disagree with the error the service raises; ``tests/http/test_docs.py`` checks that
  every entry names a real operation and a known code, and the schemathesis run
  (``tests/http/test_contract.py``) that no operation answers a status it does not list.

Success answers stay as the endpoints declare them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant

from ewallet.http.idempotency import (
    idempotent_in_unit_unless,
    require_idempotency,
    require_idempotency_in_unit,
)
from ewallet.http.problem import PROBLEM_MEDIA_TYPE
from ewallet.identity.deps import current_principal
from ewallet.kit.errors import DomainError
from ewallet.merchants.deps import current_merchant, current_merchant_in_unit
from ewallet.openapi.route_codes import ROUTE_CODES
from ewallet.ops.enforcement import is_guarded
from ewallet.staff.deps import current_staff, require_permission

PROBLEM_SCHEMA_NAME: Final = "Problem"
PROBLEM_REF: Final = f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"
# FastAPI's own validation-error schemas, dropped once nothing refers to them.
_FRAMEWORK_SCHEMAS: Final = ("HTTPValidationError", "ValidationError")

# Codes the edge answers that no DomainError subclass carries.
EDGE_CODES: Final[Mapping[str, int]] = {
    "internal_error": 500,
    "not_ready": 503,
    "maintenance": 503,
    "validation_error": 422,
    "not_found": 404,
}

PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "title": PROBLEM_SCHEMA_NAME,
    "description": (
        "An RFC 9457 problem document. Clients switch on `code` (API.md); `title` and "
        "`detail` follow Accept-Language. Some problems carry extra members."
    ),
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "https://ewallet.dev/problems/<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "The stable error code of API.md"},
        "errors": {
            "type": "array",
            "description": "validation_error: where and what, never the offending value",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": ["string", "null"]},
                },
            },
        },
        "retry_after": {
            "type": "integer",
            "minimum": 0,
            "description": "Seconds to wait; also sent as the Retry-After header",
        },
        "remaining_attempts": {"type": "integer", "minimum": 0},
        "challenge_id": {"type": "string", "description": "step_up_required: the challenge"},
        "methods": {
            "type": "array",
            "items": {"type": "string"},
            "description": "step_up_required: how the challenge may be passed",
        },
        "limit": {"description": "limit_exceeded, card_limit_reached: the limit reached"},
        "ends_at": {"type": "string", "format": "date-time"},
    },
    "additionalProperties": True,
}

AUTHENTICATED: Final = ("unauthorized", "forbidden")
IDEMPOTENT: Final = ("idempotency_key_required", "idempotency_key_reused", "request_in_progress")

# What a dependency brings, wherever a route declares it (directly or through another).
DEPENDENCY_CODES: Final[Mapping[Callable[..., Any], tuple[str, ...]]] = {
    current_principal: AUTHENTICATED,
    current_staff: AUTHENTICATED,
    current_merchant: AUTHENTICATED,
    current_merchant_in_unit: AUTHENTICATED,
    require_idempotency: (*IDEMPOTENT, "validation_error"),
    require_idempotency_in_unit: (*IDEMPOTENT, "validation_error"),
}
# Every ``require_permission(...)`` check is a closure made by that factory.
_ROLE_CHECK_PREFIX: Final = f"{require_permission.__qualname__}.<locals>."
ROLE_CHECK_CODES: Final = ("password_change_required",)
# A claim chosen per request (``idempotent_in_unit_unless``) is one of the two above.
_CHOSEN_CLAIM_PREFIX: Final = f"{idempotent_in_unit_unless.__qualname__}.<locals>."


def describe_problems(document: dict[str, Any], routes: Iterable[Any]) -> dict[str, Any]:
    """Add every operation's problem answers to ``document`` (in place) and return it."""
    statuses = status_of_codes()
    paths: dict[str, Any] = document.get("paths", {})
    for route in api_routes(routes):
        item = paths.get(route.path_format)
        if item is None:
            continue
        for method in sorted(route.methods):
            operation = item.get(method.lower())
            if operation is None:
                continue
            codes = operation_codes(route, method)
            _write_problems(operation, codes, statuses, declared=route.responses)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
    _drop_unused(document, schemas)
    return document


def install_problem_responses(app: FastAPI) -> None:
    """Have ``app.openapi()`` apply :func:`describe_problems` to each document FastAPI builds.

    FastAPI caches its document (and rebuilds it if routes were added since), so each
    new document is described once, in place.
    """
    build = app.openapi
    described: list[int] = []

    def openapi() -> dict[str, Any]:
        document = build()
        if described != [id(document)]:
            describe_problems(document, app.routes)
            described[:] = [id(document)]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def api_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The documented API routes among ``routes``, with routers' prefixes and dependencies
    applied (FastAPI resolves included routers lazily, through route contexts)."""
    contexts: Callable[[Iterable[Any]], Iterable[Any]] = getattr(
        routing, "iter_route_contexts", iter
    )
    for context in contexts(routes):
        original = getattr(context, "original_route", context)
        if isinstance(original, routing.APIRoute) and context.include_in_schema:
            yield context


def operation_codes(route: Any, method: str) -> set[str]:
    """The problem codes an operation can answer with (see the module's docstring)."""
    codes = {"internal_error"}
    dependant = route.dependant
    if any(_has_parameters(part) for part in _walk(dependant)):
        codes.add("validation_error")
    if any(part.path_params for part in _walk(dependant)):
        codes.add("not_found")
    if is_guarded(method, route.path_format):
        codes.add("maintenance")
    for part in _walk(dependant):
        codes.update(_dependency_codes(part.call))
    codes.update(ROUTE_CODES.get(operation_key(method, route.path_format), ()))
    return codes


def operation_key(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def status_of_codes() -> dict[str, int]:
    """Every known ``code`` and its status: the DomainError subclasses, plus the edge's own."""
    statuses = dict(EDGE_CODES)
    for error in _subclasses(DomainError):
        if error.code != DomainError.code:
            statuses.setdefault(error.code, error.status)
    return statuses


def _subclasses(cls: type[DomainError]) -> Iterator[type[DomainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    pending = [dependant]
    while pending:
        part = pending.pop()
        yield part
        pending.extend(part.dependencies)


def _has_parameters(part: Dependant) -> bool:
    return bool(
        part.path_params
        or part.query_params
        or part.header_params
        or part.cookie_params
        or part.body_params
    )


def _dependency_codes(call: Callable[..., Any] | None) -> tuple[str, ...]:
    if call is None:
        return ()
    known = DEPENDENCY_CODES.get(call)
    if known is not None:
        return known
    qualname = getattr(call, "__qualname__", "")
    if call.__module__ == require_permission.__module__ and qualname.startswith(_ROLE_CHECK_PREFIX):
        return ROLE_CHECK_CODES
    if call.__module__ == require_idempotency.__module__ and qualname.startswith(
        _CHOSEN_CLAIM_PREFIX
    ):
        return DEPENDENCY_CODES[require_idempotency]
    return ()


def _write_problems(
    operation: dict[str, Any],
    codes: set[str],
    statuses: Mapping[str, int],
    *,
    declared: Mapping[int | str, Any],
) -> None:
    by_status: dict[int, list[str]] = {}
    for code in sorted(codes):
        status = statuses.get(code)
        if status is None:
            raise LookupError(f"unknown problem code {code!r} in the OpenAPI description")
        by_status.setdefault(status, []).append(code)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for key in [key for key in responses if key.isdigit() and int(key) >= 400]:
        by_status.setdefault(int(key), [])  # a status the route declared itself
    for status, status_codes in sorted(by_status.items()):
        own = declared.get(status) or declared.get(str(status)) or {}
        description = own.get("description") if isinstance(own, Mapping) else None
        listed = ", ".join(f"`{code}`" for code in status_codes)
        if description and listed:
            description = f"{description} ({listed})"
        responses[str(status)] = {
            "description": description or listed or "Problem",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
        }
    operation["responses"] = dict(sorted(responses.items()))


def _drop_unused(document: dict[str, Any], schemas: dict[str, Any]) -> None:
    for name in _FRAMEWORK_SCHEMAS:
        if name not in schemas:
            continue
        reference = f"#/components/schemas/{name}"
        others = {k: v for k, v in schemas.items() if k not in _FRAMEWORK_SCHEMAS}
        if reference not in repr(document.get("paths")) and reference not in repr(others):
            del schemas[name]
