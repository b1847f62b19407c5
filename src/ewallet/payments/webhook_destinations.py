"""Where a merchant webhook may be sent: public addresses only, outside development.

A ``notify_url`` is chosen by the merchant, so without a check the wallet's worker could
be pointed at its own internal network (server-side request forgery): the database, the
metadata service of a cloud host, an admin port on 127.0.0.1. Before each delivery the
host is resolved once and every address it resolves to must be global (not private,
loopback, link-local, multicast, reserved or unspecified).
``EWALLET_WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` decides; unset, private addresses are allowed in
development (a receiver on 127.0.0.1) and refused in production.

The checked addresses are the only ones the delivery connects to
(:mod:`ewallet.payments.pinned_transport`): the HTTP client never resolves the name again,
so a DNS server that answers a public address for the check and an internal one a moment
later (DNS rebinding) gains nothing. The hostname still goes in the Host header and in TLS
(SNI and certificate verification).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from ewallet.config import Environment, Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Awaitable[Sequence[IPAddress]]]
"""A host name to its addresses; raises ``OSError`` when it does not resolve."""


class DestinationError(Exception):
    """Why a webhook cannot go to its URL now: a refused address, or a name that did not
    resolve. The message is logged as the attempt's error."""


@dataclass(frozen=True, slots=True)
class Destination:
    """A webhook URL's host and the addresses checked for it, the only ones to connect to."""

    host: str  # as the HTTP client sees it: IDNA ASCII, IPv6 without brackets
    addresses: tuple[str, ...]  # in the resolver's order of preference, at least one


def private_addresses_allowed(settings: Settings) -> bool:
    if settings.webhook_allow_private_addresses is not None:
        return settings.webhook_allow_private_addresses
    return settings.env is not Environment.PRODUCTION


async def system_resolver(host: str) -> list[IPAddress]:
    """The operating system's answer for ``host`` (what httpx itself would have used)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def resolve_destination(
    url: str, settings: Settings, *, resolve: Resolver = system_resolver
) -> Destination:
    """Resolve ``url``'s host once and check every address; raise :class:`DestinationError`
    when it may not (or cannot) be called."""
    try:
        host = httpx.URL(url).raw_host.decode("ascii")
    except httpx.InvalidURL as failure:
        raise DestinationError(f"{url} is not a valid URL ({failure})") from failure
    if not host:
        raise DestinationError(f"{url} has no host")
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = await _resolve(host, resolve, within=settings.webhook_timeout_seconds)
    if not private_addresses_allowed(settings):
        for address in addresses:
            if not address.is_global:
                raise DestinationError(
                    f"{host} is a non-public address ({address}); webhooks go to public hosts only"
                )
    return Destination(host=host, addresses=tuple(dict.fromkeys(str(a) for a in addresses)))


async def _resolve(host: str, resolve: Resolver, *, within: float) -> list[IPAddress]:
    # Bounded by the webhook timeout: the resolution no longer happens inside httpx's
    # connect timeout, and a hanging DNS server must not hold the worker.
    try:
        async with asyncio.timeout(within):
            addresses = list(await resolve(host))
    except TimeoutError:
        raise DestinationError(f"{host} did not resolve within {within:g} s") from None
    except OSError as failure:
        raise DestinationError(f"{host} could not be resolved ({failure})") from failure
    if not addresses:
        raise DestinationError(f"{host} resolved to no address")
    return addresses
