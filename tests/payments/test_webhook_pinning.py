"""Webhook deliveries connect to the address that was checked, never to a second DNS answer.

The merchant's DNS is played by an injected resolver that counts its calls: a rebinding
server would answer a public address for the check and an internal one for the connection,
so every delivery must resolve exactly once and connect to what that one answer said. The
HTTP side is a real receiver on 127.0.0.1 (private addresses allowed, as in development),
httpcore's mock backend (to see where a connection to a public address would go, without a
network) and a local TLS server with a certificate for "localhost" only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpcore
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ewallet.config import Settings
from ewallet.payments.jobs import register as register_webhooks
from ewallet.payments.webhooks.destinations import (
    NOT_ALLOWED,
    Destination,
    DestinationError,
    IPAddress,
    Resolver,
    resolve_destination,
)
from ewallet.payments.webhooks.pinned_transport import (
    PinnedNetworkBackend,
    PinnedTransport,
    pinned_client,
    verified_context,
)
from ewallet.worker import OutboxRelay
from ewallet.worker.registry import HandlerRegistry
from tests.fixtures.shop import Shop
from tests.payments.webhook_receiver import Receiver, receiver

__all__ = ["receiver"]  # the fixture

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class ScriptedDns:
    """Answers ``answers[i]`` to the i-th question (the last one ever after), and counts."""

    answers: list[list[str]]
    questions: list[str] = field(default_factory=list)

    async def __call__(self, host: str) -> Sequence[IPAddress]:
        self.questions.append(host)
        answer = self.answers[min(len(self.questions), len(self.answers)) - 1]
        return [ipaddress.ip_address(address) for address in answer]


def relay_with(shop: Shop, dns: Resolver) -> OutboxRelay:
    """A relay whose webhook sender asks ``dns`` (the worker's other handlers left out)."""
    registry = HandlerRegistry()
    # The sender sees the test's settings as they are now (a test may change them).
    register_webhooks(registry, replace(shop.services, settings=shop.settings), resolve=dns)
    return OutboxRelay(shop.engine, registry, shop.clock, worker_id="webhook-pinning-test")


async def close_an_order(shop: Shop, webhook_url: str) -> dict[str, str]:
    """Queue one ``order.closed`` webhook to ``webhook_url``; the merchant's API key headers."""
    merchant = await shop.merchant(webhook_url=webhook_url)
    order_id = await shop.order(merchant, "1.00")
    await shop.client.post(f"/v1/merchant/orders/{order_id}/close", headers=shop.key(merchant))
    return shop.key(merchant)


async def delivery_log(shop: Shop, headers: dict[str, str]) -> list[dict[str, Any]]:
    log = await shop.client.get("/v1/merchant/webhook-deliveries", headers=headers)
    items: list[dict[str, Any]] = log.json()["items"]
    return items


async def test_a_delivery_connects_to_the_address_it_checked(
    shop: Shop, receiver: Receiver
) -> None:
    receiver.failures = 0
    # A second question would be answered with an address nobody listens on.
    dns = ScriptedDns([["127.0.0.1"], ["192.0.2.1"]])
    headers = await close_an_order(shop, f"http://merchant.example:{receiver.port}/hooks")

    assert await relay_with(shop, dns).drain() == 1

    assert dns.questions == ["merchant.example"]  # one resolution for the delivery
    (call,) = receiver.calls  # reached through 127.0.0.1, the checked address
    assert call["path"] == "/hooks"
    assert call["headers"]["host"] == f"merchant.example:{receiver.port}"
    (item,) = await delivery_log(shop, headers)
    assert (item["succeeded"], item["status_code"], item["error"]) == (True, 200, None)


async def test_every_retry_resolves_once_again(shop: Shop, receiver: Receiver) -> None:
    receiver.failures = 1
    dns = ScriptedDns([["127.0.0.1"]])
    await close_an_order(shop, f"http://merchant.example:{receiver.port}/hooks")
    relay = relay_with(shop, dns)
    assert await relay.drain() == 1  # 500
    shop.clock.advance(dt.timedelta(seconds=2))
    assert await relay.drain() == 1  # 200
    assert dns.questions == ["merchant.example"] * 2
    assert len(receiver.calls) == 2


@pytest.mark.parametrize(
    "answer", [["10.0.0.5"], [PUBLIC_V4, "127.0.0.1"], ["169.254.169.254"], ["::1"]]
)
async def test_a_private_answer_outside_development_is_refused_and_nothing_is_sent(
    shop: Shop, receiver: Receiver, answer: list[str]
) -> None:
    shop.settings = shop.settings.model_copy(update={"webhook_allow_private_addresses": False})
    receiver.failures = 0
    dns = ScriptedDns([answer])
    headers = await close_an_order(shop, f"http://merchant.example:{receiver.port}/hooks")

    assert await relay_with(shop, dns).drain() == 1

    assert dns.questions == ["merchant.example"]
    assert receiver.calls == []  # nothing left the wallet
    (item,) = await delivery_log(shop, headers)
    assert item["succeeded"] is False
    assert item["status_code"] is None
    assert item["error"] == NOT_ALLOWED  # never the addresses the name resolved to


async def test_an_unresolvable_host_is_a_failed_attempt(shop: Shop, receiver: Receiver) -> None:
    async def no_such_host(host: str) -> Sequence[IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    headers = await close_an_order(shop, f"http://gone.example:{receiver.port}/hooks")

    assert await relay_with(shop, no_such_host).drain() == 1

    assert receiver.calls == []
    (item,) = await delivery_log(shop, headers)
    assert item["succeeded"] is False
    assert item["error"] == NOT_ALLOWED  # as a refused address: no oracle for names


async def test_a_redirect_is_a_failed_delivery_and_is_not_followed(
    shop: Shop, receiver: Receiver
) -> None:
    receiver.failures = 0
    receiver.redirect_to = f"{receiver.url}/elsewhere"
    dns = ScriptedDns([["127.0.0.1"]])
    headers = await close_an_order(shop, f"http://merchant.example:{receiver.port}/hooks")

    assert await relay_with(shop, dns).drain() == 1

    assert [call["path"] for call in receiver.calls] == ["/hooks"]
    (item,) = await delivery_log(shop, headers)
    assert (item["succeeded"], item["status_code"]) == (False, 302)


# The transport on its own: where the TCP connection goes and what TLS is told.


@dataclass
class Connection:
    host: str
    port: int
    tls_server_hostname: str | None = None
    sent: bytes = b""


class RecordingStream(httpcore.AsyncMockStream):
    def __init__(self, connection: Connection) -> None:
        super().__init__([OK_RESPONSE])
        self.connection = connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.connection.sent += buffer

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connection.tls_server_hostname = server_hostname
        return self


class RecordingBackend(httpcore.AsyncMockBackend):
    """Accepts every connection except to ``unreachable`` and records what was asked."""

    def __init__(self, unreachable: Iterable[str] = ()) -> None:
        super().__init__([])
        self.unreachable = set(unreachable)
        self.attempts: list[str] = []
        self.connections: list[Connection] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.attempts.append(host)
        if host in self.unreachable:
            raise httpcore.ConnectError(f"{host}: connection refused")
        connection = Connection(host, port)
        self.connections.append(connection)
        return RecordingStream(connection)


def checking(*, allow_private: bool) -> Settings:
    """Settings for the destination check alone (no database behind them)."""
    return Settings(webhook_allow_private_addresses=allow_private)


async def test_https_connects_to_the_checked_address_with_the_hostname_for_tls() -> None:
    dns = ScriptedDns([[PUBLIC_V4], ["127.0.0.1"]])
    url = "https://merchant.example/hooks"
    destination = await resolve_destination(url, checking(allow_private=False), resolve=dns)
    backend = RecordingBackend()

    async with pinned_client(destination, timeout=5, network_backend=backend) as client:
        response = await client.post(url, content=b"{}")

    assert response.status_code == 200
    assert dns.questions == ["merchant.example"]
    (connection,) = backend.connections
    assert (connection.host, connection.port) == (PUBLIC_V4, 443)
    assert connection.tls_server_hostname == "merchant.example"
    assert connection.sent.startswith(b"POST /hooks HTTP/1.1\r\n")
    assert b"\r\nHost: merchant.example\r\n" in connection.sent


async def test_each_checked_address_is_tried_in_order() -> None:
    dns = ScriptedDns([[PUBLIC_V6, PUBLIC_V4]])
    url = "https://merchant.example/hooks"
    destination = await resolve_destination(url, checking(allow_private=False), resolve=dns)
    backend = RecordingBackend(unreachable=[PUBLIC_V6])

    async with pinned_client(destination, timeout=5, network_backend=backend) as client:
        assert (await client.post(url, content=b"{}")).status_code == 200

    assert backend.attempts == [PUBLIC_V6, PUBLIC_V4]
    assert [c.tls_server_hostname for c in backend.connections] == ["merchant.example"]


async def test_a_connection_for_another_host_is_refused() -> None:
    backend = RecordingBackend()
    pinned = PinnedNetworkBackend(Destination("merchant.example", (PUBLIC_V4,)), backend)
    with pytest.raises(httpcore.ConnectError, match="not the checked webhook host"):
        await pinned.connect_tcp("internal.example", 443)
    assert backend.attempts == []


async def test_a_destination_is_checked_before_anything_connects() -> None:
    dns = ScriptedDns([[PUBLIC_V4, "10.0.0.5"]])
    with pytest.raises(DestinationError, match=r"non-public address \(10\.0\.0\.5\)"):
        await resolve_destination(
            "https://merchant.example/", checking(allow_private=False), resolve=dns
        )
    literal = await resolve_destination("http://[::1]:8080/", checking(allow_private=True))
    assert literal == Destination("::1", ("::1",))  # a literal address needs no resolver


# A real TLS handshake: the certificate names "localhost" only (no IP address), so the
# connection to 127.0.0.1 succeeds only if SNI and verification use the hostname.


def self_signed_localhost(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "localhost.pem", directory / "localhost.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class TlsReceiver:
    port: int
    trust: ssl.SSLContext
    server_names: list[str | None] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)


@pytest.fixture
async def tls_receiver(tmp_path: Path) -> AsyncIterator[TlsReceiver]:
    cert_path, key_path = self_signed_localhost(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    state = TlsReceiver(port=0, trust=ssl.create_default_context(cafile=str(cert_path)))
    server_context.sni_callback = lambda _sock, name, _ctx: state.server_names.append(name)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        state.requests.append(head + await reader.readexactly(length))
        writer.write(OK_RESPONSE)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_context)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


async def test_tls_to_the_pinned_address_verifies_the_hostname(
    tls_receiver: TlsReceiver,
) -> None:
    dns = ScriptedDns([["127.0.0.1"], ["192.0.2.1"]])
    url = f"https://localhost:{tls_receiver.port}/hooks"
    destination = await resolve_destination(url, checking(allow_private=True), resolve=dns)

    async with pinned_client(destination, timeout=5, verify=tls_receiver.trust) as client:
        response = await client.post(url, content=b'{"id":"evt_1"}')

    assert response.status_code == 200
    assert dns.questions == ["localhost"]
    assert tls_receiver.server_names == ["localhost"]
    (request,) = tls_receiver.requests
    assert f"\r\nHost: localhost:{tls_receiver.port}\r\n".encode() in request
    assert request.endswith(b'{"id":"evt_1"}')


def test_deliveries_share_the_process_one_verifying_tls_context() -> None:
    """Building a TLS context loads the CA bundle (about 21 ms of CPU): once per process,
    not once per delivery (docs/performance.md, "Webhook delivery"); a context given by the
    caller is still used as it is."""
    first = PinnedTransport(Destination("a.example", (PUBLIC_V4,)))
    second = PinnedTransport(Destination("b.example", (PUBLIC_V4,)))
    shared = verified_context()
    assert first._pool._ssl_context is shared
    assert second._pool._ssl_context is shared
    own = ssl.create_default_context()
    assert (
        PinnedTransport(Destination("c.example", (PUBLIC_V4,)), verify=own)._pool._ssl_context
        is own
    )
