"""The help API: the public ``router`` (search and read articles, feedback, contact details)
and the staff ``staff_router`` (editing articles, the feedback report).

No token is needed for the public part: people look for help before they can sign in.
Feedback is anonymous and rate-limited per client address (``help_feedback_per_ip_hour``).
Editing is for support agents and admins; every save is a new revision per changed
language plus an audit event, and the search index is invalidated at once.

The public router carries a lifespan that loads the packaged articles into an empty
database when the app starts (``help_load_defaults``), so a fresh ``make serve`` has a
help centre. Each route parses, makes one service call and shapes the answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response

from ewallet.help import service
from ewallet.help.deps import HelpSearchDep
from ewallet.help.importing.service import load_defaults_if_empty
from ewallet.help.schemas import (
    ArticleCreateIn,
    ArticleHit,
    ArticleHits,
    ArticleOut,
    ArticleUpdateIn,
    ContactOut,
    FeedbackIn,
    FeedbackReport,
    FeedbackReportRow,
    HelpLocale,
    RevisionList,
    StaffArticleList,
    StaffArticleOut,
    VersionOut,
)
from ewallet.help.views import TranslationEdit
from ewallet.http.deps import LocaleDep, ServicesDep, app_services
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import SUPPORT
from ewallet.staff.principal import StaffPrincipal


@asynccontextmanager
async def _load_defaults(app: FastAPI) -> AsyncIterator[None]:
    services = app_services(app)
    if services.settings.help_load_defaults:
        await load_defaults_if_empty(services)
    yield


router = APIRouter(tags=["help"], lifespan=_load_defaults)
staff_router = APIRouter(tags=["help (staff)"])

QueryLocale = Annotated[
    HelpLocale | None, Query(description="zh-CN or en; default from Accept-Language")
]
Editor = Annotated[StaffPrincipal, Depends(require_permission(SUPPORT))]


@router.get("/v1/help/articles", summary="Search help articles (public)")
async def search_articles(
    *,
    services: ServicesDep,
    search: HelpSearchDep,
    accept_locale: LocaleDep,
    q: Annotated[str, Query(max_length=200)] = "",
    locale: QueryLocale = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> ArticleHits:
    chosen = locale or accept_locale
    answer = await service.answer_query(services, search, query=q, limit=limit, locale=chosen)
    return ArticleHits(
        query=q,
        items=[ArticleHit.of(hit, chosen) for hit in answer.found],
        match=answer.match,
        contact=ContactOut.of(answer.contact) if answer.contact is not None else None,
    )


@router.get("/v1/help/articles/{article_ref}", summary="One help article by id or slug (public)")
async def read_article(
    article_ref: str, services: ServicesDep, accept_locale: LocaleDep, locale: QueryLocale = None
) -> ArticleOut:
    article = await service.read_article(services, article_ref, published_only=True)
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
    services: ServicesDep,
    accept_locale: LocaleDep,
) -> Response:
    await service.record_feedback(
        services,
        client_address=request.client.host if request.client is not None else None,
        ref=article_ref,
        locale=body.locale or accept_locale,
        helpful=body.helpful,
    )
    return Response(status_code=204)


@router.get("/v1/help/contact", summary="Hotline, hours, online chat and email (public)")
async def contact(services: ServicesDep, locale: LocaleDep) -> ContactOut:
    return ContactOut.of(await service.contact(services, locale=locale))


# Staff.


@staff_router.get("/v1/staff/help/articles", summary="Every help article, hidden ones included")
async def list_articles(staff: Editor, services: ServicesDep) -> StaffArticleList:
    articles = await service.list_articles(services, published_only=False)
    return StaffArticleList(items=[StaffArticleOut.of(article) for article in articles])


@staff_router.post("/v1/staff/help/articles", status_code=201, summary="Write a new help article")
async def create_article(
    body: ArticleCreateIn, staff: Editor, services: ServicesDep, search: HelpSearchDep
) -> StaffArticleOut:
    article = await service.create_article(
        services,
        staff.actor(),
        search=search,
        slug=body.slug,
        category=body.category,
        status=body.status,
        translations={locale: t.translation() for locale, t in body.translations.items()},
    )
    return StaffArticleOut.of(article)


@staff_router.put(
    "/v1/staff/help/articles/{article_id}", summary="Edit a help article (new revision)"
)
async def update_article(
    *,
    article_id: str,
    body: ArticleUpdateIn,
    staff: Editor,
    services: ServicesDep,
    search: HelpSearchDep,
) -> StaffArticleOut:
    article = await service.update_article(
        services,
        staff.actor(),
        search=search,
        ref=article_id,
        category=body.category,
        status=body.status,
        edits={
            locale: TranslationEdit(edit.translation(), edit.base_revision)
            for locale, edit in body.translations.items()
        },
    )
    return StaffArticleOut.of(article)


@staff_router.get(
    "/v1/staff/help/articles/{article_id}/revisions", summary="Every revision, newest first"
)
async def article_revisions(article_id: str, staff: Editor, services: ServicesDep) -> RevisionList:
    article, versions = await service.revision_history(services, article_id)
    return RevisionList(
        article_id=article.id,
        slug=article.slug,
        items=[VersionOut.of(version) for version in versions],
    )


@staff_router.get(
    "/v1/staff/help/feedback-report", summary="Helpful / not helpful per article, worst first"
)
async def feedback_report(
    staff: Editor,
    services: ServicesDep,
    locale: Annotated[HelpLocale, Query(description="language of the titles")] = "zh-CN",
) -> FeedbackReport:
    rows = await service.feedback_report(services, locale=locale)
    return FeedbackReport(items=[FeedbackReportRow.of(row) for row in rows])
