"""HTTP idempotency for money-moving POSTs (API.md: every one requires ``Idempotency-Key``).

An endpoint opts in by listing it after its authentication::

    @router.post("/v1/topups", status_code=201, dependencies=[Authenticated, Idempotent])

so the key is claimed only for an authenticated caller and scoped by who it is (user,
merchant or staff id, never the token: a refreshed token replays its own requests, a
signed-out one is refused before any stored answer is looked at). Then:

- no key → ``400 idempotency_key_required``; a key outside 1-255 chars → ``422``;
  nothing runs, nothing is stored;
- the first request claims the key (own committed transaction), runs, and its response
  (status, body, content headers) is stored before it is sent;
- the same key and request again → that response, with ``Idempotent-Replayed: true``;
- the same key with another body → ``409 idempotency_key_reused``;
- the same key while the first still runs → wait up to ``wait_seconds`` for its answer and
  replay it, else ``409 request_in_progress`` with ``Retry-After: 1``;
- a 5xx answer, an unexpected exception or a malformed body frees the key (nothing definite
  happened); so does a ``401`` (an authentication failure is never stored); other 4xx domain
  errors are definite outcomes and are replayed;
- once the endpoint's service said an effect outside may have happened
  (:meth:`~ewallet.kit.request_key.RequestKey.effect_possible`, before asking a bank, a PSP
  or a biller), the key is never freed: a 5xx or an exception ends the lease at once but
  keeps the record, so only the same request may run again, and that rerun finds the
  operation by its request key (:data:`RequestKeyDep`) and answers its state;
- a run that crashed or was cancelled (client gone) keeps the key until its lease
  (``lock_seconds``) ends, then the same request may take it over (and finds its
  operation by the request key). A run longer than the lease can therefore overlap a
  retry: the operations' unique request keys and the ledger's own idempotency keys are the
  last guard against a double posting.

**Claimed in the unit** (``dependencies=[..., IdempotentInUnit]``, for a hot path that
never calls out: a merchant's charge). Nothing is written before the endpoint runs; its
service writes the key's record *with the answer* in the unit of work that does the work
(:meth:`~ewallet.kit.request_key.RequestKey.record_answer`: one INSERT, so a crash between
the work and its record cannot happen, and a request costs one transaction). If another
request holds the key, that INSERT finds it (on PostgreSQL it waits for the holder's unit
to end), the unit rolls back and the holder's answer is replayed (or ``409
idempotency_key_reused`` for another body). An answer the service did not record (a
refusal, a repeat) is stored after the fact, as above; a ``5xx`` or a ``401`` leaves no
record, since nothing happened. Such an endpoint must not call out
(its :meth:`~ewallet.kit.request_key.RequestKey.effect_possible` keeps nothing: there is
no record to keep before the unit commits).

Keys are scoped by caller, method and path: the scope resolver (:func:`set_scope_resolver`)
names the caller from the principal authentication left on the request
(:func:`ewallet.identity.deps.idempotency_scope`); without one the caller is ``anonymous``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, Final

import structlog
from fastapi import Depends, FastAPI, Header, Request
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ewallet.http import idempotency_store as store
from ewallet.http.deps import app_clock, app_engine, app_settings
from ewallet.http.problem import domain_error_response, was_rejected
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import (
    ConflictError,
    DomainError,
    IdempotencyKeyRequiredError,
    IdempotencyKeyReusedError,
    ValidationFailedError,
)
from ewallet.kit.request_key import Answer, RequestKey, request_digest

IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
MAX_KEY_LENGTH: Final = 255
# Response headers worth replaying; the request id and the like belong to each request.
STORED_HEADERS: Final = ("content-type", "content-language", "location")
_CLAIM_STATE: Final = "ewallet.idempotency_claim"
JSON: Final = "application/json"

log = structlog.get_logger("ewallet.http.idempotency")

ScopeResolver = Callable[[Request], Awaitable[str]]


class RequestInProgressError(ConflictError):
    code = "request_in_progress"


async def default_scope(_request: Request) -> str:
    """Without an authentication module every caller is ``anonymous``."""
    return "anonymous"


@dataclass(slots=True)
class IdempotencyConfig:
    resolve_scope: ScopeResolver = default_scope
    lock_seconds: float = 60.0
    wait_seconds: float = 5.0
    first_poll_seconds: float = 0.02
    max_poll_seconds: float = 0.25


def idempotency_config(app: Any) -> IdempotencyConfig:
    config: IdempotencyConfig | None = getattr(app.state, "idempotency", None)
    if config is None:
        raise RuntimeError("idempotency is not installed on this app")
    return config


def set_scope_resolver(app: FastAPI, resolver: ScopeResolver) -> None:
    """Name the caller of a request; keys of different callers never meet."""
    idempotency_config(app).resolve_scope = resolver


class Replay(Exception):  # noqa: N818  (control flow, not an error)
    """Raised by the dependency to answer with a stored response instead of running."""

    def __init__(self, response: store.StoredResponse) -> None:
        super().__init__("replay")
        self.response = response


@dataclass(slots=True)
class _ActiveClaim:
    engine: AsyncEngine
    clock: Clock
    held: store.Claim
    request_key: str
    settled: bool = False
    # Set by the service before it calls out: from then on the key is never freed.
    effect_possible: bool = False

    def note_effect(self, possible: bool) -> None:
        self.effect_possible = possible

    async def complete(
        self, response: store.StoredResponse
    ) -> store.StoredResponse | DomainError | None:
        self.settled = True
        if not await store.complete(self.engine, self.held, response, now=self.clock.now()):
            log.warning("idempotency.lease_lost", record_id=self.held.record_id)
        return None

    async def release(self) -> None:
        """Free the key, unless an effect outside may have happened: then reopen it."""
        self.settled = True
        if not self.effect_possible:
            await store.release(self.engine, self.held)
        elif not await store.reopen(self.engine, self.held, now=self.clock.now()):
            log.warning("idempotency.lease_lost", record_id=self.held.record_id)


class KeyTakenError(Exception):
    """Raised in a unit that records its answer when a live record holds the key: the unit
    rolls back and the holder's record answers (:func:`_key_taken_handler`)."""


@dataclass(slots=True)
class _UnitClaim:
    """A key claimed by the unit of work that answers the request (module doc)."""

    engine: AsyncEngine
    clock: Clock
    wanted: store.KeyRequest
    keep_for: timedelta
    request_key: str
    settled: bool = False

    def note_effect(self, possible: bool) -> None:
        """Nothing to keep: the record is written with the effect, in its unit, or not at
        all -- which is why such an endpoint must not call out (module doc)."""

    async def record(self, uow: UnitOfWork, answer: Answer) -> None:
        status, body = answer
        response = store.StoredResponse(status, {"content-type": JSON}, body)
        conn = await uow.connection()
        now = self.clock.now()
        if not await store.record_answered(
            conn, self.wanted, response, now=now, keep_for=self.keep_for
        ):
            raise KeyTakenError(self.wanted.key)
        uow.after_commit(self._recorded)

    def _recorded(self) -> None:
        self.settled = True

    async def complete(
        self, response: store.StoredResponse
    ) -> store.StoredResponse | DomainError | None:
        """Store an answer the unit did not record. If another request holds the key: its
        answer when it is this request's (the client gets that instead), or
        ``idempotency_key_reused`` when it was another body (whatever this run answered
        was no effect: a unit that made one would have recorded it)."""
        self.settled = True
        now = self.clock.now()
        if await store.store_answered(
            self.engine, self.wanted, response, now=now, keep_for=self.keep_for
        ):
            return None
        held = await store.load(self.engine, scope=self.wanted.scope, key=self.wanted.key)
        if held is None:
            return None  # gone meanwhile (expired and purged): our own answer stands
        if held.request_hash != self.wanted.request_hash:
            return IdempotencyKeyReusedError("this Idempotency-Key was used for another request")
        return held.response  # None while a classic claim still runs: ours stands

    async def release(self) -> None:
        self.settled = True  # nothing was written: nothing to free


def canonical_body(body: bytes) -> bytes:
    """JSON bodies without insignificant whitespace or key order; other bodies as sent."""
    if not body:
        return b""
    try:
        document = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError):
        return body
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate must not crash the hash


def request_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode("utf-8"), path.encode("utf-8"), canonical_body(body)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def key_scope(caller: str, method: str, path: str) -> str:
    """The record's ``scope``: keys are per caller and per method and path (64 hex chars)."""
    return hashlib.sha256(f"{caller}\n{method}\n{path}".encode()).hexdigest()


def _validated_key(key: str | None) -> str:
    if key is None:
        raise IdempotencyKeyRequiredError("an Idempotency-Key header is required")
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters"
        raise ValidationFailedError(
            message,
            errors=[{"loc": ["header", IDEMPOTENCY_HEADER], "msg": message, "type": "length"}],
        )
    return key


# The header every idempotent route declares (and the OpenAPI document shows).
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        description="Required. 1-255 characters, unique per intended operation.",
    ),
]


async def _key_request(request: Request, key: str, config: IdempotencyConfig) -> store.KeyRequest:
    method = request.method
    path = request.url.path
    target = path + ("?" + request.url.query if request.url.query else "")
    caller = await config.resolve_scope(request)
    return store.KeyRequest(
        scope=key_scope(caller, method, path),
        key=key,
        method=method[:8],
        path=path[:512],
        request_hash=request_hash(method, target, await request.body()),
    )


async def require_idempotency(
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> None:
    """Claim the key, or answer from the record of the request that holds it."""
    key = _validated_key(idempotency_key)
    config = idempotency_config(request.app)
    engine = app_engine(request.app)
    clock = app_clock(request.app)
    ttl = timedelta(hours=app_settings(request.app).idempotency_ttl_hours)
    lock = timedelta(seconds=config.lock_seconds)
    wanted = await _key_request(request, key, config)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.wait_seconds
    pause = config.first_poll_seconds
    outcome = await store.claim(engine, wanted, now=clock.now(), lock_for=lock, keep_for=ttl)
    while True:
        if isinstance(outcome, store.Claim):
            request.scope.setdefault("state", {})[_CLAIM_STATE] = _ActiveClaim(
                engine=engine,
                clock=clock,
                held=outcome,
                request_key=request_digest(wanted.scope, key, wanted.request_hash),
            )
            return
        if outcome.request_hash != wanted.request_hash:
            raise IdempotencyKeyReusedError("this Idempotency-Key was used for another request")
        if outcome.response is not None:
            raise Replay(outcome.response)
        if loop.time() + pause > deadline:
            raise RequestInProgressError(
                "a request with this Idempotency-Key is still running", retry_after=1
            )
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, config.max_poll_seconds)
        current = await store.load(engine, scope=wanted.scope, key=key)
        now = clock.now()
        if current is None or current.may_be_taken_over(request_hash=wanted.request_hash, now=now):
            outcome = await store.claim(engine, wanted, now=now, lock_for=lock, keep_for=ttl)
        else:
            outcome = current


Idempotent = Depends(require_idempotency)
"""Route dependency making a POST idempotent: ``dependencies=[Idempotent]``."""


async def require_idempotency_in_unit(
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> None:
    """Name the key and the request; the endpoint's unit of work claims it (module doc)."""
    key = _validated_key(idempotency_key)
    config = idempotency_config(request.app)
    wanted = await _key_request(request, key, config)
    request.scope.setdefault("state", {})[_CLAIM_STATE] = _UnitClaim(
        engine=app_engine(request.app),
        clock=app_clock(request.app),
        wanted=wanted,
        keep_for=timedelta(hours=app_settings(request.app).idempotency_ttl_hours),
        request_key=request_digest(wanted.scope, key, wanted.request_hash),
    )


IdempotentInUnit = Depends(require_idempotency_in_unit)
"""Route dependency for a POST whose service records its answer in its own unit of work:
``dependencies=[IdempotentInUnit]`` and the service calls ``request_key.record_answer``."""


def idempotent_in_unit_unless(calls_out: Callable[[Any], bool]) -> Any:
    """Route dependency for a POST that calls out for some bodies only (``POST
    /v1/payments``: a card source asks the bank, the balance does not): the key is claimed
    in the unit (:data:`IdempotentInUnit`) unless ``calls_out`` says this request may call
    out -- given the body's JSON, or None when it is not JSON (the route refuses it, and
    the classic claim stores that refusal) -- when it is claimed before the endpoint runs
    (:data:`Idempotent`). The same key sent with both kinds of body meets itself as a
    recorded key either way: ``idempotency_key_reused``."""

    async def claim(
        request: Request,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> None:
        try:
            body = json.loads(await request.body())
        except (ValueError, RecursionError):
            body = None
        if body is None or calls_out(body):
            await require_idempotency(request, idempotency_key)
        else:
            await require_idempotency_in_unit(request, idempotency_key)

    return Depends(claim)


async def current_request_key(request: Request) -> RequestKey:
    """The request key of this idempotent request, for the operation it makes."""
    claim = _claim_of(request.scope)
    if claim is None:
        raise RuntimeError("RequestKeyDep needs the route's Idempotent dependency")
    if isinstance(claim, _UnitClaim):
        return RequestKey(claim.request_key, claim.note_effect, claim.record)
    return RequestKey(claim.request_key, claim.note_effect)


RequestKeyDep = Annotated[RequestKey, Depends(current_request_key)]
"""The endpoint's :class:`~ewallet.kit.request_key.RequestKey`, passed to its service."""


async def _replay_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    stored = exc.response
    headers = {**stored.headers, REPLAYED_HEADER: "true"}
    return Response(content=stored.body, status_code=stored.status, headers=headers)


async def _key_taken_handler(request: Request, exc: Exception) -> Response:
    """Another request holds the key this unit tried to record: answer as it did (after
    waiting for it, should it still run), or ``idempotency_key_reused`` for another body."""
    assert isinstance(exc, KeyTakenError)
    claim = _claim_of(request.scope)
    assert isinstance(claim, _UnitClaim)
    claim.settled = True
    wanted = claim.wanted
    config = idempotency_config(request.app)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.wait_seconds
    pause = config.first_poll_seconds
    while True:
        held = await store.load(claim.engine, scope=wanted.scope, key=wanted.key)
        if held is not None and held.request_hash != wanted.request_hash:
            reused = IdempotencyKeyReusedError("this Idempotency-Key was used for another request")
            return domain_error_response(reused, request)
        if held is not None and held.response is not None:
            return await _replay_handler(request, Replay(held.response))
        if loop.time() + pause > deadline:
            busy = RequestInProgressError(
                "a request with this Idempotency-Key is still running", retry_after=1
            )
            return domain_error_response(busy, request)
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, config.max_poll_seconds)


class IdempotencyMiddleware:
    """Holds back the response of a claimed request until it is stored (or the key freed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_until_stored(message: Message) -> None:
            claim = _claim_of(scope)
            if claim is None or claim.settled:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await _settle(scope, claim, held)
                for item in held:
                    await send(item)

        try:
            await self.app(scope, receive, hold_until_stored)
        except Exception:
            claim = _claim_of(scope)
            if claim is not None and not claim.settled:
                await claim.release()
            raise
        claim = _claim_of(scope)
        if claim is not None and not claim.settled:
            await claim.release()  # the app ended without a complete response


def _claim_of(scope: Scope) -> _ActiveClaim | _UnitClaim | None:
    claim = scope.get("state", {}).get(_CLAIM_STATE)
    return claim if isinstance(claim, _ActiveClaim | _UnitClaim) else None


async def _settle(scope: Scope, claim: _ActiveClaim | _UnitClaim, messages: list[Message]) -> None:
    start = messages[0]
    status = int(start["status"])
    # 401: who is calling was not established, so nothing about this request is definite.
    if status >= 500 or status == 401 or was_rejected(scope):
        await claim.release()
        return
    headers: dict[str, str] = {}
    for name, value in start.get("headers", ()):
        decoded = bytes(name).decode("latin-1").lower()
        if decoded in STORED_HEADERS:
            headers[decoded] = bytes(value).decode("latin-1")
    body = b"".join(bytes(m.get("body", b"")) for m in messages[1:])
    try:
        held = await claim.complete(store.StoredResponse(status=status, headers=headers, body=body))
    except Exception:
        # The outcome happened; the client still gets it. The key stays locked until its
        # lease ends, so a retry meanwhile waits instead of running again.
        log.exception("idempotency.store_failed", key=claim.request_key)
        return
    if isinstance(held, DomainError):
        answer = domain_error_response(held, Request(scope))
        messages[:] = [
            {
                "type": "http.response.start",
                "status": answer.status_code,
                "headers": answer.raw_headers,
            },
            {"type": "http.response.body", "body": answer.body},
        ]
    elif held is not None:  # another request with this key answered first: its answer
        stored_headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in held.headers.items()
        ]
        stored_headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
        messages[:] = [
            {"type": "http.response.start", "status": held.status, "headers": stored_headers},
            {"type": "http.response.body", "body": held.body},
        ]


def install_idempotency(app: FastAPI, config: IdempotencyConfig | None = None) -> None:
    """Make ``Idempotent`` work on ``app``: config, replay handler and the middleware."""
    app.state.idempotency = config or IdempotencyConfig()
    app.add_exception_handler(Replay, _replay_handler)
    app.add_exception_handler(KeyTakenError, _key_taken_handler)
    app.add_middleware(IdempotencyMiddleware)


async def purge_expired_records(engine: AsyncEngine, clock: Clock) -> int:
    """Delete idempotency records past ``idempotency_ttl_hours``; for a periodic job."""
    return await store.purge_expired(engine, now=clock.now())
