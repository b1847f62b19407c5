"""Where a merchant webhook may be sent: public addresses only, outside development.

A ``notify_url`` is chosen by the merchant, so without a check the wallet's worker could
be pointed at its own internal network (server-side request forgery): the database, the
metadata service of a cloud host, an admin port on 127.0.0.1. Before each delivery the
host is resolved and every address it resolves to must be global (not private, loopback,
link-local, multicast, reserved or unspecified). ``EWALLET_WEBHOOK_ALLOW_PRIVATE_ADDRESSES``
decides; unset, private addresses are allowed in development (a receiver on 127.0.0.1) and
refused in production.

The check resolves the name itself, and the HTTP client then resolves it again: a DNS
server that answers differently the second time (rebinding) could still slip through. An
egress proxy that enforces the same rule is the complete answer in production.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx

from ewallet.config import Environment, Settings


def private_addresses_allowed(settings: Settings) -> bool:
    if settings.webhook_allow_private_addresses is not None:
        return settings.webhook_allow_private_addresses
    return settings.env is not Environment.PRODUCTION


async def destination_refusal(url: str, settings: Settings) -> str | None:
    """Why ``url`` may not be called, or None when it may."""
    if private_addresses_allowed(settings):
        return None
    host = httpx.URL(url).host
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
        except OSError:
            return None  # unresolvable: the HTTP call fails and is retried like any other
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global:
            return f"{host} is a non-public address ({address}); webhooks go to public hosts only"
    return None
