"""The public help API: search and read articles, say whether one helped, contact details.

No token is needed for any of it: people look for help before they can sign in. Feedback is
anonymous and rate-limited per client address (``help_feedback_per_ip_hour``).

The router carries a lifespan that loads the packaged articles into an empty database when
the app starts (``help_load_defaults``), so a fresh ``make serve`` has a help centre.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request, Response

from ewallet.chat.presence import any_agent_online
from ewallet.help import importing, service
from ewallet.help.contact import CHINA_TIME, contact_details
from ewallet.help.schemas import (
    ArticleHit,
    ArticleHits,
    ArticleOut,
    ContactChat,
    ContactHours,
    ContactOut,
    FeedbackIn,
    HelpLocale,
)
from ewallet.help.search import app_help_search, summary
from ewallet.http.deps import ClockDep, EngineDep, LocaleDep, SettingsDep, app_clock, app_engine
from ewallet.http.deps import app_settings as settings_of
from ewallet.identity.runtime import app_rate_limiter
from ewallet.identity.throttles import UNKNOWN_ADDRESS
from ewallet.kit.ratelimit import Rule
from ewallet.staff.deps import client_ip


@asynccontextmanager
async def _load_defaults(app: FastAPI) -> AsyncIterator[None]:
    if settings_of(app).help_load_defaults:
        await importing.load_defaults_if_empty(app_engine(app), clock=app_clock(app))
    yield


router = APIRouter(tags=["help"], lifespan=_load_defaults)
QueryLocale = Annotated[
    HelpLocale | None, Query(description="zh-CN or en; default from Accept-Language")
]


@router.get("/v1/help/articles", summary="Search help articles (public)")
async def search_articles(
    *,
    request: Request,
    engine: EngineDep,
    accept_locale: LocaleDep,
    q: Annotated[str, Query(max_length=200)] = "",
    locale: QueryLocale = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> ArticleHits:
    chosen = locale or accept_locale
    search = app_help_search(request.app)
    results: list[tuple[service.Article, float | None]]
    if q.strip():
        results = [(r.article, r.score) for r in await search.search(engine, q, limit=limit)]
    else:
        results = [(article, None) for article in await search.browse(engine, limit=limit)]
    items = []
    for article, score in results:
        version = article.version(chosen)
        items.append(
            ArticleHit(
                id=article.id,
                slug=article.slug,
                category=article.category,
                locale=version.locale,
                title=version.title,
                summary=summary(version.body),
                score=round(score, 4) if score is not None else None,
            )
        )
    return ArticleHits(query=q, items=items)


@router.get("/v1/help/articles/{article_ref}", summary="One help article by id or slug (public)")
async def read_article(
    article_ref: str, engine: EngineDep, accept_locale: LocaleDep, locale: QueryLocale = None
) -> ArticleOut:
    article = await service.get_article(engine, article_ref, published_only=True)
    return ArticleOut.of(article, locale or accept_locale)


@router.post(
    "/v1/help/articles/{article_ref}/feedback",
    status_code=204,
    summary="Was this article helpful? (public, rate-limited per address)",
)
async def article_feedback(
    *,
    article_ref: str,
    body: FeedbackIn,
    request: Request,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    accept_locale: LocaleDep,
) -> Response:
    rule = Rule("help-feedback-ip", settings.help_feedback_per_ip_hour, timedelta(hours=1))
    refused = await app_rate_limiter(request.app).hit(rule, client_ip(request) or UNKNOWN_ADDRESS)
    if refused is not None:
        raise refused.error("too much feedback from this address; try again later")
    await service.record_feedback(
        engine,
        clock=clock,
        ref=article_ref,
        locale=body.locale or accept_locale,
        helpful=body.helpful,
    )
    return Response(status_code=204)


@router.get("/v1/help/contact", summary="Hotline, hours, online chat and email (public)")
async def contact(
    engine: EngineDep, settings: SettingsDep, clock: ClockDep, locale: LocaleDep
) -> ContactOut:
    details = contact_details(settings, now=clock.now(), locale=locale)
    staffed = details.chat_available and await any_agent_online(
        engine, clock=clock, settings=settings
    )
    return ContactOut(
        hotline=details.hotline,
        hours=ContactHours(
            opens=details.hours.opens,
            closes=details.hours.closes,
            timezone=CHINA_TIME.key,
            open_now=details.open_now,
            text=details.hours_text,
        ),
        online_chat=ContactChat(
            available=details.chat_available, path=details.chat_path, agents_online=staffed
        ),
        email=details.email,
    )
