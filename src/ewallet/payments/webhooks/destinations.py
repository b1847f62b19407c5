"""Where a merchant webhook may be sent: public addresses only, outside development.

A ``notify_url`` is chosen by the merchant, so without a check the wallet's worker could
be pointed at its own internal network (server-side request forgery): the database, the
metadata service of a cloud host, an admin port on 127.0.0.1. Before each delivery the
host is resolved once and every address it resolves to must be public (:func:`is_public`:
global, and not multicast, reserved, site-local or unspecified). An IPv6 address that carries
an IPv4 address -- IPv4-mapped ``::ffff:0:0/96``, IPv4-compatible ``::/96``, NAT64
``64:ff9b::/96``, 6to4 ``2002::/16`` -- is judged by the IPv4 address it carries, since that
is where a translator or relay would deliver it; the local-use NAT64 prefix
``64:ff9b:1::/48`` (RFC 8215) is refused outright: it only means something inside the
operator's own network.
``EWALLET_WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` decides; unset, private addresses are allowed in
development (a receiver on 127.0.0.1) and refused in production.

The checked addresses are the only ones the delivery connects to
(:mod:`ewallet.payments.webhooks.pinned_transport`): the HTTP client never resolves the name again,
so a DNS server that answers a public address for the check and an internal one a moment
later (DNS rebinding) gains nothing. The hostname still goes in the Host header and in TLS
(SNI and certificate verification).

What the merchant is told (``GET /v1/merchant/webhook-deliveries``) is
:attr:`DestinationError.public`: that the destination is not allowed, never which address
its name resolved to -- otherwise a merchant could map the wallet's internal DNS by pointing
webhooks at internal names. The full reason is the exception's message, for the logs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

import httpx

from ewallet.config import Environment, Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Awaitable[Sequence[IPAddress]]]
"""A host name to its addresses; raises ``OSError`` when it does not resolve."""


# What merchants read for any refused or unresolvable destination: one text for both, so
# the answer does not tell an internal name that exists from one that does not.
NOT_ALLOWED: Final = "destination not allowed: the host must resolve to public addresses only"
INVALID_URL: Final = "destination not allowed: the URL is not valid"

_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class DestinationError(Exception):
    """Why a webhook cannot go to its URL now: a refused address, or a name that did not
    resolve. The message (with the host and addresses) is for the logs; :attr:`public` is
    what the merchant's delivery log shows."""

    def __init__(self, message: str, *, public: str = NOT_ALLOWED) -> None:
        super().__init__(message)
        self.public = public


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_WELL_KNOWN or (
        address in _IPV4_COMPATIBLE and int(address) > 1  # not :: or ::1
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether a webhook may connect to ``address`` when private addresses are refused."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL_USE:
            return False  # the operator's own translator: any IPv4 behind it, unknowable
        carried = embedded_ipv4(address)
        if carried is not None:
            return is_public(carried)
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
    )


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
        raise DestinationError(f"{url} is not a valid URL ({failure})", public=INVALID_URL) from (
            failure
        )
    if not host:
        raise DestinationError(f"{url} has no host", public=INVALID_URL)
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = await _resolve(host, resolve, within=settings.webhook_timeout_seconds)
    if not private_addresses_allowed(settings):
        for address in addresses:
            if not is_public(address):
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
