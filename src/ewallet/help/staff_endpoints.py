"""Staff editing of help articles (support agents and admins), and the feedback report.

Every save is a new revision per changed language plus an audit event; the app's search
index is invalidated at once so the next search sees the edit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ewallet.help import service
from ewallet.help.schemas import (
    ArticleCreateIn,
    ArticleUpdateIn,
    FeedbackReport,
    FeedbackReportRow,
    HelpLocale,
    RevisionList,
    StaffArticleList,
    StaffArticleOut,
    VersionOut,
)
from ewallet.help.search import app_help_search
from ewallet.http.deps import ClockDep, EngineDep
from ewallet.staff.deps import require_roles
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(tags=["help (staff)"])

Editor = Annotated[StaffPrincipal, Depends(require_roles("support_agent"))]


@router.get("/v1/staff/help/articles", summary="Every help article, hidden ones included")
async def list_articles(staff: Editor, engine: EngineDep) -> StaffArticleList:
    articles = await service.list_articles(engine, published_only=False)
    return StaffArticleList(items=[StaffArticleOut.of(article) for article in articles])


@router.post("/v1/staff/help/articles", status_code=201, summary="Write a new help article")
async def create_article(
    body: ArticleCreateIn, request: Request, staff: Editor, engine: EngineDep, clock: ClockDep
) -> StaffArticleOut:
    article = await service.create_article(
        engine,
        clock=clock,
        principal=staff,
        slug=body.slug,
        category=body.category,
        status=body.status,
        translations={locale: t.translation() for locale, t in body.translations.items()},
    )
    app_help_search(request.app).invalidate()
    return StaffArticleOut.of(article)


@router.put("/v1/staff/help/articles/{article_id}", summary="Edit a help article (new revision)")
async def update_article(
    *,
    article_id: str,
    body: ArticleUpdateIn,
    request: Request,
    staff: Editor,
    engine: EngineDep,
    clock: ClockDep,
) -> StaffArticleOut:
    article = await service.update_article(
        engine,
        clock=clock,
        principal=staff,
        ref=article_id,
        category=body.category,
        status=body.status,
        edits={
            locale: service.TranslationEdit(edit.translation(), edit.base_revision)
            for locale, edit in body.translations.items()
        },
    )
    app_help_search(request.app).invalidate()
    return StaffArticleOut.of(article)


@router.get(
    "/v1/staff/help/articles/{article_id}/revisions", summary="Every revision, newest first"
)
async def article_revisions(article_id: str, staff: Editor, engine: EngineDep) -> RevisionList:
    article, versions = await service.revision_history(engine, article_id)
    return RevisionList(
        article_id=article.id,
        slug=article.slug,
        items=[VersionOut.of(version) for version in versions],
    )


@router.get(
    "/v1/staff/help/feedback-report", summary="Helpful / not helpful per article, worst first"
)
async def feedback_report(
    staff: Editor,
    engine: EngineDep,
    locale: Annotated[HelpLocale, Query(description="language of the titles")] = "zh-CN",
) -> FeedbackReport:
    rows = await service.feedback_report(engine, locale=locale)
    return FeedbackReport(
        items=[
            FeedbackReportRow(
                article_id=row.article_id,
                slug=row.slug,
                title=row.title,
                helpful=row.helpful,
                not_helpful=row.not_helpful,
                total=row.total,
                helpful_ratio=round(row.helpful_ratio, 4)
                if row.helpful_ratio is not None
                else None,
            )
            for row in rows
        ]
    )
