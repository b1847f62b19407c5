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
  ``400``/``409`` answers, the payment-password guard its refusals;
- :data:`ROUTE_CODES`, explicit codes per operation (``"POST /v1/transfers"``) for what its
  use case refuses: a new route adds its line there. A ``code`` resolves to its status
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

from ewallet.http.idempotency import require_idempotency
from ewallet.http.problem import PROBLEM_MEDIA_TYPE
from ewallet.identity.deps import current_principal
from ewallet.identity.payment_password import payment_password_guard
from ewallet.kit.errors import DomainError
from ewallet.merchants.deps import current_merchant
from ewallet.ops.enforcement import is_guarded
from ewallet.staff.deps import current_staff, require_roles

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
PAYMENT_PASSWORD: Final = (
    "payment_password_not_set",
    "payment_password_invalid",
    "payment_password_locked",
    "account_frozen",
    "server_busy",
)

# What a dependency brings, wherever a route declares it (directly or through another).
DEPENDENCY_CODES: Final[Mapping[Callable[..., Any], tuple[str, ...]]] = {
    current_principal: AUTHENTICATED,
    current_staff: AUTHENTICATED,
    current_merchant: AUTHENTICATED,
    require_idempotency: (*IDEMPOTENT, "validation_error"),
    payment_password_guard: PAYMENT_PASSWORD,
}
# Every ``require_roles(...)`` check is a closure made by that factory.
_ROLE_CHECK_PREFIX: Final = f"{require_roles.__qualname__}.<locals>."
ROLE_CHECK_CODES: Final = ("password_change_required",)

# What each operation's use case refuses, beyond what its shape and dependencies bring.
# First drawn from the errors its code raises; a new route adds its line here.
ROUTE_CODES: Final[Mapping[str, tuple[str, ...]]] = {
    "GET /readyz": ("not_ready",),
    "POST /v1/verification-codes": ("invalid_phone", "rate_limited", "upstream_unavailable"),
    "POST /v1/users": (
        "invalid_phone",
        "phone_already_registered",
        "too_many_attempts",
        "verification_code_expired",
        "verification_code_invalid",
        "weak_password",
    ),
    "POST /v1/sessions": (
        "invalid_credentials",
        "invalid_phone",
        "rate_limited",
        "step_up_required",
        "too_many_attempts",
        "upstream_unavailable",
        "verification_code_expired",
        "verification_code_invalid",
    ),
    "POST /v1/sessions/step-up": (
        "invalid_credentials",
        "not_found",
        "rate_limited",
        "too_many_attempts",
        "upstream_unavailable",
        "verification_code_expired",
        "verification_code_invalid",
    ),
    "POST /v1/sessions/refresh": ("unauthorized",),
    "PUT /v1/me/login-password": (
        "conflict",
        "invalid_credentials",
        "rate_limited",
        "too_many_attempts",
        "upstream_unavailable",
        "weak_password",
    ),
    "POST /v1/me/step-up": (
        "not_found",
        "rate_limited",
        "too_many_attempts",
        "upstream_unavailable",
        "verification_code_expired",
        "verification_code_invalid",
    ),
    "PUT /v1/me/payment-password": (
        "conflict",
        "invalid_credentials",
        "not_found",
        "payment_password_already_set",
        "payment_password_invalid",
        "payment_password_locked",
        "rate_limited",
        "same_as_login_password",
        "server_busy",
        "too_many_attempts",
        "upstream_unavailable",
        "weak_payment_password",
    ),
    "POST /v1/password-resets": (
        "identity_mismatch",
        "identity_required",
        "invalid_phone",
        "rate_limited",
        "same_as_login_password",
        "too_many_attempts",
        "upstream_unavailable",
        "verification_code_expired",
        "verification_code_invalid",
        "weak_password",
        "weak_payment_password",
    ),
    "POST /v1/me/totp": ("not_found", "totp_already_enabled"),
    "POST /v1/me/totp/confirm": (
        "not_found",
        "totp_already_enabled",
        "totp_invalid",
        "totp_not_enabled",
    ),
    "DELETE /v1/me/totp": (
        "not_found",
        "too_many_attempts",
        "totp_invalid",
        "totp_not_enabled",
        "upstream_unavailable",
    ),
    "POST /v1/me/identity": (
        "age_not_eligible",
        "id_number_in_use",
        "identity_already_verified",
        "invalid_id_number",
        "invalid_real_name",
        "not_found",
        "upstream_unavailable",
    ),
    "POST /v1/me/freeze": (
        "account_frozen",
        "invalid_credentials",
        "not_found",
        "payment_password_invalid",
        "payment_password_locked",
        "server_busy",
        "too_many_attempts",
        "verification_code_expired",
        "verification_code_invalid",
    ),
    "PUT /v1/me/anti-phishing-code": ("not_found",),
    "DELETE /v1/me/anti-phishing-code": ("not_found", "validation_error"),
    "POST /v1/me/notifications/{notification_id}/read": ("upstream_unavailable",),
    "POST /v1/staff/sessions": (
        "invalid_credentials",
        "rate_limited",
        "too_many_attempts",
        "upstream_unavailable",
    ),
    "GET /v1/staff/me": ("not_found",),
    "PUT /v1/staff/me/password": ("invalid_credentials", "not_found", "weak_password"),
    "POST /v1/staff/staff": ("staff_email_taken",),
    "POST /v1/staff/staff/{staff_id}/disable": ("conflict",),
    "POST /v1/staff/users/{user_id}/freeze": ("account_frozen",),
    "POST /v1/staff/users/{user_id}/unfreeze": ("account_not_frozen",),
    "DELETE /v1/staff/maintenance-windows/{window_id}": ("conflict",),
    "POST /v1/topups": (
        "bank_declined",
        "invalid_amount",
        "not_found",
        "signature_invalid",
        "upstream_unavailable",
    ),
    "POST /v1/me/cards": (
        "card_already_bound",
        "card_invalid",
        "card_limit_reached",
        "card_not_supported",
        "identity_mismatch",
        "invalid_phone",
        "invalid_real_name",
        "not_found",
        "upstream_unavailable",
    ),
    "POST /v1/me/cards/{card_id}/verify": ("conflict", "upstream_unavailable"),
    "POST /v1/me/cards/{card_id}/unbind": ("card_operation_pending", "upstream_unavailable"),
    "GET /v1/me/wallet": ("not_found",),
    "POST /v1/cards/lookup": ("card_invalid",),
    "POST /v1/withdrawals/preview": ("invalid_amount", "not_found"),
    "POST /v1/withdrawals": (
        "account_frozen",
        "bank_declined",
        "insufficient_balance",
        "invalid_amount",
        "limit_exceeded",
        "not_found",
        "upstream_unavailable",
    ),
    "POST /v1/staff/counter-deposits": (
        "account_frozen",
        "currency_not_supported",
        "invalid_amount",
        "invalid_phone",
        "not_found",
        "receipt_already_used",
    ),
    "POST /v1/staff/counter-deposits/{deposit_id}/approve": (
        "account_frozen",
        "deposit_not_awaiting_approval",
        "invalid_amount",
    ),
    "POST /v1/staff/counter-deposits/{deposit_id}/reject": (
        "deposit_not_awaiting_approval",
        "invalid_amount",
    ),
    "POST /v1/staff/merchants": ("not_found",),
    "POST /v1/merchant/orders": (
        "currency_not_supported",
        "invalid_amount",
        "out_trade_no_conflict",
    ),
    "POST /v1/merchant/orders/{order_id}/close": ("invalid_amount", "order_not_closable"),
    "POST /v1/merchant/orders/{order_id}/refunds": (
        "currency_not_supported",
        "insufficient_balance",
        "invalid_amount",
        "order_not_refundable",
        "out_refund_no_conflict",
        "refund_exceeds_payment",
    ),
    "POST /v1/payments": (
        "account_frozen",
        "currency_not_supported",
        "insufficient_balance",
        "invalid_amount",
        "limit_exceeded",
        "merchant_not_supported",
        "not_found",
        "order_not_payable",
        "payment_password_invalid",
        "payment_password_locked",
        "server_busy",
        "step_up_required",
        "upstream_unavailable",
    ),
    "POST /v1/transfers/preview": (
        "account_frozen",
        "invalid_amount",
        "invalid_phone",
        "not_found",
        "payee_account_frozen",
        "rate_limited",
        "transfer_to_self",
        "upstream_unavailable",
    ),
    "POST /v1/transfers": (
        "account_frozen",
        "insufficient_balance",
        "invalid_amount",
        "invalid_phone",
        "limit_exceeded",
        "not_found",
        "payee_account_frozen",
        "transfer_to_self",
        "upstream_unavailable",
    ),
    "GET /v1/me/payment-code": (
        "account_frozen",
        "not_found",
        "payment_password_not_set",
        "rate_limited",
    ),
    "POST /v1/me/payment-code/confirmations/{challenge_id}": (
        "account_frozen",
        "insufficient_balance",
        "invalid_amount",
        "limit_exceeded",
        "merchant_not_supported",
        "order_not_payable",
        "payment_password_invalid",
        "payment_password_locked",
        "server_busy",
        "upstream_unavailable",
    ),
    "POST /v1/merchant/charges": (
        "account_frozen",
        "currency_not_supported",
        "insufficient_balance",
        "invalid_amount",
        "limit_exceeded",
        "merchant_not_supported",
        "not_found",
        "order_not_payable",
        "out_trade_no_conflict",
        "payment_code_invalid",
        "step_up_required",
        "too_many_attempts",
        "upstream_unavailable",
    ),
    "GET /v1/me/password-free-payments": ("not_found",),
    "PUT /v1/me/password-free-payments": ("currency_not_supported", "invalid_amount", "not_found"),
    "POST /v1/bills/lookup": (
        "bill_account_invalid",
        "bill_account_not_found",
        "invalid_amount",
        "invalid_phone",
        "not_found",
        "upstream_unavailable",
    ),
    "POST /v1/bill-payments": (
        "account_frozen",
        "bill_account_invalid",
        "bill_account_not_found",
        "bill_amount_not_allowed",
        "biller_declined",
        "insufficient_balance",
        "invalid_amount",
        "invalid_phone",
        "limit_exceeded",
        "not_found",
        "upstream_unavailable",
    ),
    "GET /v1/bill-payments/{payment_id}/receipt": ("bill_receipt_not_ready",),
    "POST /v1/support/tickets": ("not_found", "rate_limited", "upstream_unavailable"),
    "POST /v1/support/tickets/{ticket_id}/messages": ("ticket_closed", "upstream_unavailable"),
    "POST /v1/support/tickets/{ticket_id}/rating": ("ticket_already_rated", "ticket_not_resolved"),
    "PUT /v1/support/email": ("support_email_taken",),
    "POST /v1/support/email/verify": ("support_email_code_invalid", "support_email_taken"),
    "POST /v1/staff/support/tickets/{ticket_id}/replies": ("ticket_closed", "upstream_unavailable"),
    "POST /v1/staff/support/tickets/{ticket_id}/notes": ("ticket_closed", "upstream_unavailable"),
    "PUT /v1/staff/support/tickets/{ticket_id}/assignee": (
        "agent_not_available",
        "ticket_closed",
        "upstream_unavailable",
    ),
    "PATCH /v1/staff/support/tickets/{ticket_id}": (
        "ticket_closed",
        "ticket_transition_invalid",
        "upstream_unavailable",
    ),
    "POST /v1/staff/support/queue/dispatch": ("upstream_unavailable",),
    "GET /v1/support/chats/{chat_id}": ("upstream_unavailable",),
    "GET /v1/staff/support/chats/{chat_id}": ("upstream_unavailable",),
    "POST /v1/staff/support/chats/{chat_id}/take": ("chat_not_waiting",),
    "POST /v1/staff/support/chats/{chat_id}/messages": ("chat_closed",),
    "POST /v1/staff/support/chats/{chat_id}/end": (
        "agent_not_available",
        "chat_closed",
        "ticket_closed",
        "ticket_transition_invalid",
        "upstream_unavailable",
    ),
    "POST /v1/support/callbacks": (
        "callback_limit_reached",
        "invalid_phone",
        "not_found",
        "upstream_unavailable",
    ),
    "POST /v1/support/callbacks/{callback_id}/cancel": ("callback_not_open",),
    "POST /v1/staff/support/callbacks/{callback_id}/done": ("callback_not_open",),
    "POST /v1/staff/support/calls": ("invalid_phone", "upstream_unavailable"),
    "POST /v1/staff/support/customers/{user_id}/freeze": ("account_frozen", "invalid_amount"),
    "POST /v1/staff/support/customers/{user_id}/unfreeze": ("account_not_frozen", "invalid_amount"),
    "GET /v1/help/articles": ("upstream_unavailable",),
    "POST /v1/help/articles/{article_ref}/feedback": ("rate_limited", "upstream_unavailable"),
    "POST /v1/staff/help/articles": ("conflict",),
    "PUT /v1/staff/help/articles/{article_id}": ("conflict",),
}


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
    if call.__module__ == require_roles.__module__ and qualname.startswith(_ROLE_CHECK_PREFIX):
        return ROLE_CHECK_CODES
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
