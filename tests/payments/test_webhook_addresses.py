"""Which addresses a webhook may go to, and what the merchant is told when it may not.

IPv6 addresses that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by
the IPv4 address inside: ``64:ff9b::7f00:1`` is 127.0.0.1 behind a NAT64 translator, and
Python's ``is_global`` calls it public. The merchant's delivery log says "destination not
allowed" or "unreachable", never the address a name resolved to.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from ewallet.config import Settings
from ewallet.payments.webhooks.destinations import (
    NOT_ALLOWED,
    DestinationError,
    embedded_ipv4,
    is_public,
    resolve_destination,
)
from tests.fixtures.shop import Shop
from tests.payments.test_webhook_pinning import ScriptedDns, close_an_order, relay_with

REFUSED = [
    "127.0.0.1",
    "10.0.0.5",
    "169.254.169.254",
    "100.64.0.1",
    "224.0.0.1",  # multicast: "global" to Python
    "::1",
    "fe80::1",
    "fec0::1",  # site-local: "global" to Python
    "ff0e::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.5",
    "::127.0.0.1",  # IPv4-compatible
    "::a00:5",
    "64:ff9b::7f00:1",  # NAT64 well-known prefix, 127.0.0.1 inside
    "64:ff9b::a9fe:a9fe",  # NAT64 of the cloud metadata address
    "64:ff9b:1::808:808",  # NAT64 local-use prefix: refused whatever it carries
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:5::1",  # 6to4 of 10.0.0.5
]
ALLOWED = [
    "93.184.216.34",
    "2606:4700::1111",
    "::ffff:93.184.216.34",
    "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
    "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_the_embedded_address_is_the_one_judged() -> None:
    loopback = ipaddress.IPv4Address("127.0.0.1")
    for carrier in ("::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::"):
        address = ipaddress.IPv6Address(carrier)
        assert address.is_global or address.ipv4_mapped  # what Python alone would say
        assert embedded_ipv4(address) == loopback
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700::1111")) is None
    assert embedded_ipv4(ipaddress.IPv6Address("::1")) is None


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:a00:5::1", "::ffff:10.0.0.5"])
async def test_a_name_resolving_to_a_translated_private_address_is_refused(address: str) -> None:
    settings = Settings(webhook_allow_private_addresses=False)
    dns = ScriptedDns([[address]])
    with pytest.raises(DestinationError) as refused:
        await resolve_destination("https://merchant.example/", settings, resolve=dns)
    assert refused.value.public == NOT_ALLOWED
    assert address not in refused.value.public
    assert str(ipaddress.ip_address(address)) in str(refused.value)  # the log keeps it


async def test_literal_translated_addresses_are_refused_too() -> None:
    settings = Settings(webhook_allow_private_addresses=False)
    for url in ("http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::1]:8080/hooks"):
        with pytest.raises(DestinationError):
            await resolve_destination(url, settings)


async def test_the_merchant_never_sees_what_a_name_resolved_to(shop: Shop) -> None:
    shop.settings = shop.settings.model_copy(update={"webhook_allow_private_addresses": False})
    dns = ScriptedDns([["93.184.216.34", "10.20.30.40"]])
    headers = await close_an_order(shop, "https://db.internal.example/hooks")
    assert await relay_with(shop, dns).drain() == 1
    log = await shop.client.get("/v1/merchant/webhook-deliveries", headers=headers)
    (item,) = log.json()["items"]
    assert item["succeeded"] is False
    assert item["error"] == NOT_ALLOWED
    assert "10.20.30.40" not in log.text
    assert "93.184.216.34" not in log.text

    # A name that does not resolve reads the same: no oracle for internal names.
    missing = await close_an_order(shop, "https://nowhere.internal.example/hooks")
    assert await relay_with(shop, ScriptedDns([[]])).drain() == 1
    log = await shop.client.get("/v1/merchant/webhook-deliveries", headers=missing)
    assert log.json()["items"][0]["error"] == NOT_ALLOWED


async def test_a_refused_connection_reads_unreachable_without_the_address(shop: Shop) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    headers = await close_an_order(shop, f"http://hooks.example:{port}/gone")
    assert await relay_with(shop, ScriptedDns([["127.0.0.1"]])).drain() == 1
    log = await shop.client.get("/v1/merchant/webhook-deliveries", headers=headers)
    (item,) = log.json()["items"]
    assert item["error"] == "unreachable: the connection failed"
    assert "127.0.0.1" not in log.text.replace(f"hooks.example:{port}", "")
