"""Console pages: help articles -- the list, editing one language of an article with a live
preview, its revision history with what each save changed, and the feedback report.

For support agents (and admins), over help's own use cases (``/v1/staff/help/...`` runs the
same): a save is a new revision of the language edited plus one audit event, and the
wallet's help centre and search show it at once. Editing is one language at a time; the
form carries the revision it was opened at, so a colleague's save in between is refused
(``conflict``) instead of overwritten.

The preview renders unsaved text exactly as the wallet's article page does
(:func:`ewallet.help.service.preview_article`). With JavaScript, htmx posts the draft to
``.../preview`` as the editor types and swaps the preview in; without it, the Preview
button posts the whole form and the page comes back with the preview and the text kept.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.help import service
from ewallet.help.articles import CATEGORIES, Translation, split_tags
from ewallet.help.deps import HelpSearchDep
from ewallet.help.views import Article, TranslationEdit
from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.kit.i18n import EN, ZH_CN, Locale
from ewallet.models.help import ARTICLE_STATUSES, HELP_LOCALES
from ewallet.services import Services
from ewallet.web.console.auth import Supporter
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.forms import Form
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, refusal, see_other

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

LIST: Final = "console/help_articles/list.html"
EDIT: Final = "console/help_articles/edit.html"
PREVIEW: Final = "console/help_articles/_preview.html"
HISTORY: Final = "console/help_articles/history.html"
DIFF: Final = "console/help_articles/diff.html"
REPORT: Final = "console/help_articles/feedback.html"
BASE: Final = "/console/help/articles"


def _lang(value: str | None, request: Request) -> str:
    """The language edited: as asked, else the reader's."""
    if value in HELP_LOCALES:
        return str(value)
    return EN if locale_of(request) == EN else ZH_CN


@router.get("/help/articles")
async def article_list(request: Request, staff: Supporter, services: ServicesDep) -> Response:
    """Every article, hidden ones included, by category and slug."""
    articles = await service.list_articles(services, published_only=False)
    return await console_page(request, services, LIST, articles=articles, lang=_lang(None, request))


@router.get("/help/articles/feedback-report")
async def feedback_report(request: Request, staff: Supporter, services: ServicesDep) -> Response:
    """Helpful and not helpful answers per article, worst first; unrated ones last."""
    rows = await service.feedback_report(services, locale=_lang(None, request))
    return await console_page(request, services, REPORT, rows=rows)


@router.get("/help/articles/{article_id}")
async def edit_page(
    *,
    article_id: str,
    request: Request,
    staff: Supporter,
    services: ServicesDep,
    lang: str | None = None,
    saved: str = "",
) -> Response:
    article = await service.read_article(services, article_id, published_only=False)
    edited = _lang(lang, request)
    current = article.versions.get(edited)
    values = {
        "title": current.title if current else "",
        "body": current.body if current else "",
        "tags": ", ".join(current.tags) if current else "",
        "category": article.category,
        "status": article.status,
        "base_revision": current.revision if current else 0,
    }
    return await _edit(request, services, article, edited, values, saved=saved == "1")


async def _edit(
    request: Request,
    services: Services,
    article: Article,
    lang: str,
    values: dict[str, Any],
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    context.setdefault("saved", False)
    context.setdefault("preview_error", None)
    try:
        preview = service.preview_article(title=values["title"], body=values["body"])
    except DomainError as error:  # text too long to preview: said next to the preview
        preview, context["preview_error"] = None, refusal(request, error)
    return await console_page(
        request,
        services,
        EDIT,
        status_code=status_code,
        article=article,
        lang=lang,
        values=values,
        preview=preview,
        categories=CATEGORIES,
        statuses=ARTICLE_STATUSES,
        field_errors=context.pop("field_errors", {}),
        **context,
    )


def _values(form: Form) -> dict[str, Any]:
    base = form.text("base_revision")
    return {
        "title": form.text("title"),
        "body": form["body"].replace("\r\n", "\n"),
        "tags": form.text("tags"),
        "category": form.text("category"),
        "status": form.text("status"),
        "base_revision": int(base) if base.isdigit() else None,
    }


def _field_messages(locale: Locale) -> dict[str, str]:
    return {
        "title": _t("A title is one line of 1 to 200 characters.", locale),
        "body": _t("The text needs 1 to 20,000 characters.", locale),
        "tags": _t("Up to 30 tags, separated by commas, each at most 40 characters.", locale),
        "category": _t("Choose one of the topics.", locale),
        "status": _t("Choose who can see the article.", locale),
    }


@router.post("/help/articles/{article_id}")
async def save_article(
    *,
    article_id: str,
    request: Request,
    staff: Supporter,
    form: ConsoleForm,
    services: ServicesDep,
    search: HelpSearchDep,
) -> Response:
    """Save the language edited (a new revision if its text changed), or with
    ``action=preview`` only show the preview with the text kept (JavaScript off)."""
    lang = _lang(form.text("lang"), request)
    values = _values(form)
    if form["action"] == "preview":
        article = await service.read_article(services, article_id, published_only=False)
        return await _edit(request, services, article, lang, values)
    edit = TranslationEdit(
        Translation(values["title"], values["body"], split_tags(values["tags"])),
        values["base_revision"],
    )
    try:
        await service.update_article(
            services,
            staff.actor(),
            search=search,
            ref=article_id,
            category=values["category"],
            status=values["status"],
            edits={lang: edit},
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        return await _refused_save(
            request=request,
            services=services,
            article_id=article_id,
            lang=lang,
            values=values,
            error=error,
        )
    return see_other(f"{BASE}/{article_id}?lang={lang}&saved=1")


async def _refused_save(
    *,
    request: Request,
    services: Services,
    article_id: str,
    lang: str,
    values: dict[str, Any],
    error: DomainError,
) -> Response:
    """The form again with what was typed, and why it was not saved."""
    locale = locale_of(request)
    article = await service.read_article(services, article_id, published_only=False)
    field = error.extra.get("field")
    messages = _field_messages(locale)
    field_errors: dict[str, str] = {}
    if error.code == "conflict":
        current = article.versions.get(lang)
        values = {**values, "base_revision": current.revision if current else 0}
        message = _t(
            "Someone saved this language while you were editing. Your text is kept below: "
            "check the revision history, then save again to replace their version.",
            locale,
        )
    elif error.code == "validation_error" and field in messages:
        field_errors = {field: messages[field]}
        message = _t("Nothing was saved. Check the highlighted field.", locale)
    else:
        message = refusal(request, error)
    return await _edit(
        request,
        services,
        article,
        lang,
        values,
        status_code=error.status,
        error=message,
        field_errors=field_errors,
    )


@router.post("/help/articles/{article_id}/preview")
async def preview(
    article_id: str, request: Request, staff: Supporter, form: ConsoleForm, services: ServicesDep
) -> Response:
    """The preview alone, for htmx to swap in while the editor types."""
    try:
        shown = service.preview_article(title=form.text("title"), body=form["body"])
    except DomainError as error:
        return await console_page(
            request, services, PREVIEW, preview=None, preview_error=refusal(request, error)
        )
    return await console_page(request, services, PREVIEW, preview=shown, preview_error=None)


@router.get("/help/articles/{article_id}/revisions")
async def history(
    article_id: str,
    request: Request,
    staff: Supporter,
    services: ServicesDep,
    lang: str | None = None,
) -> Response:
    """Every revision of one language, newest first, each with a link to what it changed."""
    article, versions = await service.revision_history(services, article_id)
    shown = _lang(lang, request)
    return await console_page(
        request,
        services,
        HISTORY,
        article=article,
        lang=shown,
        versions=[version for version in versions if version.locale == shown],
    )


@router.get("/help/articles/{article_id}/revisions/{lang}/{revision}")
async def changes(
    *,
    article_id: str,
    lang: str,
    revision: str,
    request: Request,
    staff: Supporter,
    services: ServicesDep,
) -> Response:
    """What revision ``revision`` changed from the one before it."""
    number = int(revision) if revision.isdigit() and len(revision) < 9 else 0
    diff = await service.compare_revisions(
        services, article_id, locale=lang, older=number - 1, newer=number
    )
    return await console_page(request, services, DIFF, diff=diff, article=diff.article)
