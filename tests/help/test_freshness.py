"""The search index notices articles changed by another process, within its check period."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.help.articles import ArticleSource, Translation
from ewallet.help.importing.service import import_articles, load_defaults_if_empty
from ewallet.help.search import HelpSearch
from ewallet.help.service import search_articles
from ewallet.kit.clock import FrozenClock
from ewallet.services import Services
from tests.fixtures.staff import START
from tests.fixtures.support import bare_services

NEW = ArticleSource(
    "pay-utility-bills",
    "payments",
    {
        "zh-CN": Translation("如何缴纳水电费", "在缴费页选择缴费单位。", ("水电费",)),
        "en": Translation("Paying utility bills", "Pick the biller.", ("bills",)),
    },
)


async def slugs(search: HelpSearch, services: Services, query: str) -> list[str]:
    found = await search_articles(services, search, query=query, limit=3)
    return [result.article.slug for result in found]


async def test_a_change_elsewhere_is_seen_after_the_check_period(
    engine: AsyncEngine, settings: Settings
) -> None:
    services = bare_services(engine, settings, FrozenClock(START))
    await load_defaults_if_empty(services)
    now = [100.0]
    search = HelpSearch(check_seconds=2.0, monotonic=lambda: now[0])
    assert "pay-utility-bills" not in await slugs(search, services, "水电费")

    # Another process (here: a direct import) adds an article.
    await import_articles(services, None, articles=[NEW])
    now[0] += 1.0
    assert "pay-utility-bills" not in await slugs(search, services, "水电费")  # within the period
    now[0] += 1.5
    assert (await slugs(search, services, "水电费"))[:1] == ["pay-utility-bills"]


async def test_invalidate_rebuilds_at_once(engine: AsyncEngine, settings: Settings) -> None:
    services = bare_services(engine, settings, FrozenClock(START))
    await load_defaults_if_empty(services)
    search = HelpSearch(check_seconds=3600.0)
    assert await slugs(search, services, "水电费") != ["pay-utility-bills"]
    await import_articles(services, None, articles=[NEW])
    search.invalidate()
    assert (await slugs(search, services, "水电费"))[:1] == ["pay-utility-bills"]
