"""An HTTP client that connects only to addresses checked beforehand (webhook delivery).

httpx resolves a URL's host when it opens the connection. For a merchant's webhook that
second resolution is the gap: :func:`~ewallet.payments.webhooks.destinations.resolve_destination`
resolved the name and found public addresses, and a DNS server under the merchant's control
could answer 127.0.0.1 a moment later (DNS rebinding). Here the TCP connection goes to the
checked addresses and nowhere else, tried in order, while everything above TCP still sees the
hostname: httpx sends it in the Host header and httpcore passes it to TLS as the server name,
so SNI and certificate verification are for the hostname, not the address.

The client does not follow redirects (a 3xx is a failed delivery) and takes no proxy from
the environment; even so, a connection for any other host than the checked one is refused.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterable

import httpcore
import httpx

from ewallet.payments.webhooks.destinations import Destination


class PinnedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections to ``destination``'s checked addresses, whatever the name."""

    def __init__(
        self, destination: Destination, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.destination = destination
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if host != self.destination.host:
            raise httpcore.ConnectError(
                f"{host} is not the checked webhook host {self.destination.host}"
            )
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in self.destination.addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error  # the next checked address may answer (IPv6, then IPv4)
        if failure is None:
            raise httpcore.ConnectError(f"{host} has no checked address")
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's signature
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are not sent over Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def verified_context() -> ssl.SSLContext:
    """The process's one certificate-verifying TLS context, shared by every delivery:
    building one loads the CA bundle, about 21 ms of CPU, which a delivery per payment
    cannot afford (docs/performance.md, "Webhook delivery")."""
    return httpx.create_ssl_context()


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request mapping, error mapping) over a pinned connection pool."""

    def __init__(
        self,
        destination: Destination,
        *,
        verify: ssl.SSLContext | bool = True,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        ssl_context = verified_context() if verify is True else httpx.create_ssl_context(verify)
        super().__init__(verify=ssl_context)
        # httpx builds its httpcore pool with no way to pass a network backend; this is the
        # pool it builds without a proxy, plus the pinned backend. The pinning tests fail
        # if a future httpx stops sending requests through ``_pool``.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            network_backend=PinnedNetworkBackend(destination, network_backend),
        )


def pinned_client(
    destination: Destination,
    *,
    timeout: float,
    verify: ssl.SSLContext | bool = True,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
) -> httpx.AsyncClient:
    """A client for one delivery to ``destination``: no redirects, no environment proxy."""
    return httpx.AsyncClient(
        transport=PinnedTransport(destination, verify=verify, network_backend=network_backend),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
