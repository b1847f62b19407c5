"""The help centre: ``/help`` (search as you type, topics, common questions) and
``/help/articles/{slug}`` (an article, "was this helpful?").

Public pages: people look for help before they can sign in. The same use cases as
``GET /v1/help/articles``, ``GET /v1/help/articles/{ref}`` and ``POST .../feedback``: the
ranking (Chinese and English, typos, synonyms) and the per-address feedback limit are the
help service's. The search box is a plain GET form; with JavaScript, htmx asks
``/help/search`` for the results as the reader types and swaps them in. A query with no good
match still shows the closest articles, under a line saying they may not be it, with the
hotline, the chat, a ticket and a call-back beside them: the page never ends in "nothing
found". Articles are
Markdown written by us and our staff; they are shown through :func:`article_html`, which
escapes everything and knows only the few constructs the articles use.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.help import service as help_service
from ewallet.help.articles import CATEGORIES
from ewallet.help.deps import HelpSearchDep
from ewallet.help.markdown import article_html
from ewallet.help.search import summary
from ewallet.help.views import Article, Found, Match
from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.services import Services
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

INDEX: Final = "wallet/help/index.html"
RESULTS: Final = "wallet/help/_results.html"
ARTICLE: Final = "wallet/help/article.html"
FEEDBACK: Final = "wallet/help/_feedback.html"
RESULT_LIMIT: Final = 10
BROWSE_LIMIT: Final = 500  # every published article (about sixty-five today)
MAX_QUERY: Final = 200
# The questions customer service hears most, first on the help page.
COMMON: Final = (
    "forgot-payment-password",
    "verification-code-not-received",
    "top-up-not-credited",
    "withdrawal-fees",
    "payment-failed",
    "freeze-account",
)

Q = Annotated[str, Query(max_length=MAX_QUERY)]


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@router.get("/help")
async def help_index(
    request: Request, services: ServicesDep, search: HelpSearchDep, q: Q = ""
) -> Response:
    """Common questions and topics; with ``q`` (the search form without script), results."""
    return await _help(request, services, search, q, template=INDEX)


@router.get("/help/search")
async def help_search(
    request: Request, services: ServicesDep, search: HelpSearchDep, q: Q = ""
) -> Response:
    """What htmx swaps in as the reader types (the topics again for an emptied box); the
    whole page for anyone else."""
    template = RESULTS if _htmx(request) else INDEX
    return await _help(request, services, search, q, template=template)


async def _help(
    request: Request, services: Services, search: HelpSearchDep, q: str, *, template: str
) -> Response:
    query = q.strip()
    limit = RESULT_LIMIT if query else BROWSE_LIMIT
    answer = await help_service.answer_query(
        services, search, query=query, limit=limit, locale=locale_of(request)
    )
    return await page(
        request,
        services,
        template,
        hotline=services.settings.hotline,
        weak=answer.match is Match.WEAK,
        contact=answer.contact,
        **_listing(request, query, answer.found),
    )


def _listing(request: Request, query: str, found: list[Found]) -> dict[str, Any]:
    locale = locale_of(request)
    hits = [_hit(item.article, locale) for item in found]
    if query:
        return {"query": query, "hits": hits, "common": [], "topics": []}
    by_slug = {hit["slug"]: hit for hit in hits}
    topics = [
        (category, [hit for hit in hits if hit["category"] == category]) for category in CATEGORIES
    ]
    return {
        "query": "",
        "hits": [],
        "common": [by_slug[slug] for slug in COMMON if slug in by_slug],
        "topics": [(category, items) for category, items in topics if items],
    }


def _hit(article: Article, locale: str) -> dict[str, str]:
    version = article.version(locale)
    return {
        "slug": article.slug,
        "category": article.category,
        "title": version.title,
        "summary": summary(version.body),
        "lang": version.locale,
    }


@router.get("/help/articles/{ref}")
async def article_page(
    ref: str,
    request: Request,
    services: ServicesDep,
    feedback: Annotated[str | None, Query(max_length=3)] = None,
) -> Response:
    """An article in the reader's language; ``?feedback=yes|no`` after a no-script vote."""
    article = await help_service.read_article(services, ref, published_only=True)
    return await _article(request, services, article, voted=_vote(feedback))


def _vote(value: str | None) -> str | None:
    return value if value in ("yes", "no") else None


async def _article(
    request: Request,
    services: Services,
    article: Article,
    *,
    voted: str | None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    version = article.version(locale_of(request))
    return await page(
        request,
        services,
        ARTICLE,
        status_code=status_code,
        article=article,
        ref=article.slug,
        version=version,
        hotline=services.settings.hotline,
        body_html=article_html(version.body),
        voted=voted,
        error=error,
    )


@router.post("/help/articles/{ref}/feedback")
async def article_feedback(
    ref: str, request: Request, form: PostedForm, services: ServicesDep
) -> Response:
    """One anonymous "was this helpful?" answer (rate-limited per address by the service).
    htmx swaps the answer's box in place; without it, back to the article, thanked."""
    helpful = form["helpful"] == "yes"
    try:
        await help_service.record_feedback(
            services,
            client_address=request.client.host if request.client else None,
            ref=ref,
            locale=locale_of(request),
            helpful=helpful,
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        message = refusal(request, error)
        if _htmx(request):  # htmx swaps 2xx answers only
            return await page(request, services, FEEDBACK, ref=ref, voted=None, error=message)
        article = await help_service.read_article(services, ref, published_only=True)
        return await _article(
            request, services, article, voted=None, error=message, status_code=error.status
        )
    voted = "yes" if helpful else "no"
    if _htmx(request):
        return await page(request, services, FEEDBACK, ref=ref, voted=voted)
    return see_other(f"/help/articles/{ref}?feedback={voted}#feedback")


__all__ = ["article_html", "router"]
