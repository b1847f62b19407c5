"""The same gateway against the sandbox bank served by uvicorn on a real socket.

Here timeouts are httpx's own read timeouts and a dropped connection is a real closed
socket, so the failure mapping is checked against the network, not only the ASGI shortcut.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from ewallet.integrations.bank.http_gateway import HttpBankGateway
from ewallet.kit.clock import FrozenClock
from ewallet.kit.errors import UpstreamUnavailableError
from ewallet.kit.money import Money
from ewallet.sandbox.bank import Behaviour, SandboxCard, create_bank_app
from tests.sandbox_bank.conftest import GATEWAY_TIMEOUT, KEY, MORNING, config_for
from tests.sandbox_bank.helpers import card_behaving, card_of


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    """The bank app under uvicorn on 127.0.0.1 and a free port, in a background thread."""
    app = create_bank_app(config_for(tmp_path / "served-bank.db"), clock=FrozenClock(MORNING))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app, ws="none", lifespan="on", log_config=None, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, "uvicorn did not start in time"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


@pytest.fixture
async def remote(served: tuple[str, FastAPI]) -> AsyncIterator[HttpBankGateway]:
    gateway = HttpBankGateway(base_url=served[0], key=KEY, timeout=GATEWAY_TIMEOUT)
    yield gateway
    await gateway.aclose()


async def bind_remote(gateway: HttpBankGateway, base_url: str, card: SandboxCard) -> str:
    """Bind over the socket, reading the code from the bank's ``GET /sms``."""
    await gateway.start_binding(
        card_number=card.number,
        holder_name=card.holder_name,
        id_number=card.id_number,
        bank_phone=card.bank_phone,
        request_id=f"bind:{card.number}",
    )
    async with httpx.AsyncClient(base_url=base_url) as client:
        texts = (await client.get("/sms", params={"phone": card.bank_phone})).json()
    bound = await gateway.confirm_binding(request_id=f"bind:{card.number}", code=texts[-1]["code"])
    return bound.agreement_token


async def test_the_whole_journey_over_a_socket(
    served: tuple[str, FastAPI], remote: HttpBankGateway
) -> None:
    base_url, _app = served
    async with httpx.AsyncClient(base_url=base_url) as client:
        assert len((await client.get("/test-cards")).json()) == 11
        refused = await client.post("/debits", json={})
        assert (refused.status_code, refused.json()["code"]) == (401, "unauthorized")
    token = await bind_remote(remote, base_url, card_of("ICBC"))
    paid = await remote.debit(agreement_token=token, amount=Money(2_000), request_id="topup:1")
    again = await remote.debit(agreement_token=token, amount=Money(2_000), request_id="topup:1")
    assert paid.status == again.status == "succeeded"
    assert paid.bank_reference == again.bank_reference
    slow = await remote.debit(agreement_token=token, amount=Money(10_055), request_id="topup:2")
    assert slow.status == "succeeded"
    timed_out = await remote.debit(
        agreement_token=token, amount=Money(10_051), request_id="topup:3"
    )
    assert (timed_out.status, timed_out.reason) == ("unknown", "timeout")
    assert (await remote.query(request_id="topup:3")).status == "not_found"
    rows = await remote.settlement(MORNING.date())
    assert [(row.request_id, row.amount) for row in rows] == [
        ("topup:1", Money(2_000)),
        ("topup:2", Money(10_055)),
    ]


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (Behaviour.ERROR_AFTER_COMMIT, "bank_http_500"),
        (Behaviour.DROP_AFTER_COMMIT, "connection_lost"),
    ],
)
async def test_a_failure_after_the_commit_is_unknown_over_a_socket(
    served: tuple[str, FastAPI], remote: HttpBankGateway, behaviour: Behaviour, reason: str
) -> None:
    token = await bind_remote(remote, served[0], card_behaving(behaviour))
    result = await remote.debit(agreement_token=token, amount=Money(300), request_id="topup:1")
    assert (result.status, result.reason) == ("unknown", reason)
    assert (await remote.query(request_id="topup:1")).status == "succeeded"


async def test_a_refused_connection_is_upstream_unavailable() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nobody listens there now
    gateway = HttpBankGateway(base_url=f"http://127.0.0.1:{port}", key=KEY, timeout=1)
    try:
        with pytest.raises(UpstreamUnavailableError, match="unreachable"):
            await gateway.debit(agreement_token="agr_x", amount=Money(1), request_id="t:1")
        with pytest.raises(UpstreamUnavailableError, match="did not answer"):
            await gateway.query(request_id="t:1")
    finally:
        await gateway.aclose()
