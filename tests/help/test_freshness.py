"""The search index notices articles changed by another process, within its check period."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.help.articles import ArticleSource, Translation
from ewallet.help.importing import import_articles, load_defaults_if_empty
from ewallet.help.search import HelpSearch
from ewallet.kit.clock import FrozenClock
from tests.staff.helpers import START

NEW = ArticleSource(
    "pay-utility-bills",
    "payments",
    {
        "zh-CN": Translation("如何缴纳水电费", "在缴费页选择缴费单位。", ("水电费",)),
        "en": Translation("Paying utility bills", "Pick the biller.", ("bills",)),
    },
)


async def slugs(search: HelpSearch, engine: AsyncEngine, query: str) -> list[str]:
    return [result.article.slug for result in await search.search(engine, query, limit=3)]


async def test_a_change_elsewhere_is_seen_after_the_check_period(engine: AsyncEngine) -> None:
    clock = FrozenClock(START)
    await load_defaults_if_empty(engine, clock=clock)
    now = [100.0]
    search = HelpSearch(check_seconds=2.0, monotonic=lambda: now[0])
    assert "pay-utility-bills" not in await slugs(search, engine, "水电费")

    # Another process (here: a direct import) adds an article.
    await import_articles(engine, clock=clock, articles=[NEW])
    now[0] += 1.0
    assert "pay-utility-bills" not in await slugs(search, engine, "水电费")  # within the period
    now[0] += 1.5
    assert (await slugs(search, engine, "水电费"))[:1] == ["pay-utility-bills"]


async def test_invalidate_rebuilds_at_once(engine: AsyncEngine) -> None:
    clock = FrozenClock(START)
    await load_defaults_if_empty(engine, clock=clock)
    search = HelpSearch(check_seconds=3600.0)
    assert await slugs(search, engine, "水电费") != ["pay-utility-bills"]
    await import_articles(engine, clock=clock, articles=[NEW])
    search.invalidate()
    assert (await slugs(search, engine, "水电费"))[:1] == ["pay-utility-bills"]
