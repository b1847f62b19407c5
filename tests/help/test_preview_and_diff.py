"""What the console's article editor needs from help's service: a preview rendered exactly
as the wallet renders articles, the difference between two revisions, and the editing
rules enforced by the service itself (so a page cannot save what the API would refuse)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.help import service
from ewallet.help.articles import DEFAULT_DIR, Translation, read_dir
from ewallet.help.deps import app_help_search
from ewallet.help.diff import LineKind, line_diff
from ewallet.help.markdown import article_html
from ewallet.help.views import TranslationEdit
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from tests.fixtures.staff import audit_actions
from tests.help.conftest import count_rows

EDITOR = Actor("staff", "stf_editor")
CHANGES = (LineKind.REMOVED, LineKind.ADDED)


def test_the_preview_renders_every_packaged_article_as_the_wallet_does() -> None:
    """The preview and the wallet's article page share one renderer (help.markdown)."""
    bodies = [t.body for a in read_dir(DEFAULT_DIR) for t in a.translations.values()]
    assert len(bodies) > 50
    for body in bodies:
        assert service.preview_article(title="t", body=body).html == article_html(body)


def test_the_preview_escapes_what_staff_type() -> None:
    preview = service.preview_article(
        title="  Fees  ",
        body=(
            "# Fees\n\n<script>alert(1)</script> **free** up to ¥20,000\n\n"
            "- [ours](/help/articles/refunds)\n- [theirs](javascript:steal)\n"
        ),
    )
    assert preview.title == "Fees"
    html = str(preview.html)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<h2>Fees</h2>" in html
    assert "<strong>free</strong>" in html
    assert '<a href="/help/articles/refunds">ours</a>' in html
    assert "javascript:" not in html  # the label stays, without the link
    assert "<li>theirs</li>" in html
    assert preview.summary.startswith("Fees")
    empty = service.preview_article(title="", body="")
    assert (empty.title, str(empty.html), empty.summary) == ("", "", "")
    with pytest.raises(ValidationFailedError) as refused:
        service.preview_article(title="t", body="x" * 20_001)
    assert refused.value.extra["field"] == "body"
    with pytest.raises(ValidationFailedError):
        service.preview_article(title="t" * 201, body="")


def test_line_differences_fold_unchanged_stretches() -> None:
    old = "\n".join(f"line {n}" for n in range(1, 21))
    new = old.replace("line 10", "line ten").replace("line 2\n", "")
    lines = line_diff(old, new)
    kinds = [line.kind for line in lines]
    assert kinds.count(LineKind.GAP) == 2  # between the two changes, and after the last
    assert [(line.kind, line.text) for line in lines if line.kind in CHANGES] == [
        (LineKind.REMOVED, "line 2"),
        (LineKind.REMOVED, "line 10"),
        (LineKind.ADDED, "line ten"),
    ]
    removed = next(line for line in lines if line.text == "line 10")
    added = next(line for line in lines if line.text == "line ten")
    assert (removed.old_number, removed.new_number, added.old_number, added.new_number) == (
        10, None, None, 9,
    )  # fmt: skip
    assert line_diff(old, old) == []
    assert [line.kind for line in line_diff("", "a")] == [LineKind.ADDED]


@pytest.fixture
async def services_app(client: httpx.AsyncClient, app: FastAPI) -> FastAPI:
    """The app after its lifespan loaded the packaged articles."""
    return app


async def test_comparing_two_revisions(
    services_app: FastAPI, engine: AsyncEngine, clock: FrozenClock
) -> None:
    services, search = app_services(services_app), app_help_search(services_app)
    current = await service.read_article(services, "withdrawal-fees", published_only=False)
    english = current.versions["en"]
    clock.advance(timedelta(minutes=5))
    body = english.body.replace("\n", "\nA new second line.\n", 1)
    await service.update_article(
        services,
        EDITOR,
        search=search,
        ref=current.id,
        edits={"en": TranslationEdit(Translation("Fees, plainly", body, english.tags), 1)},
    )
    diff = await service.compare_revisions(
        services, "withdrawal-fees", locale="en", older=1, newer=2
    )
    assert (diff.older.revision, diff.newer.revision, diff.locale) == (1, 2, "en")
    assert diff.title_changed
    assert not diff.tags_changed
    assert [(line.kind, line.text) for line in diff.lines if line.kind in CHANGES] == [
        (LineKind.ADDED, "A new second line.")
    ]
    with pytest.raises(NotFoundError):
        await service.compare_revisions(services, current.id, locale="en", older=1, newer=3)
    with pytest.raises(NotFoundError):
        await service.compare_revisions(services, current.id, locale="zh-CN", older=1, newer=2)
    with pytest.raises(NotFoundError):
        await service.compare_revisions(services, "hlp_nope", locale="en", older=1, newer=2)
    with pytest.raises(ValidationFailedError):
        await service.compare_revisions(services, current.id, locale="en", older=2, newer=2)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "two\nlines"}, "title"),
        ({"body": " \n "}, "body"),
        ({"body": "x" * 20_001}, "body"),
        ({"tags": tuple(f"t{n}" for n in range(31))}, "tags"),
        ({"tags": ("x" * 41,)}, "tags"),
        ({"category": "gossip"}, "category"),
        ({"status": "draft"}, "status"),
    ],
)
async def test_the_service_refuses_what_the_api_schema_refuses(
    services_app: FastAPI, engine: AsyncEngine, edit: dict[str, object], field: str
) -> None:
    services, search = app_services(services_app), app_help_search(services_app)
    before = await count_rows(engine)
    audited = await audit_actions(engine)
    tags = edit.get("tags", ("tag",))
    assert isinstance(tags, tuple)
    translation = Translation(
        str(edit.get("title", "A title")), str(edit.get("body", "A body.")), tags
    )
    with pytest.raises(ValidationFailedError) as refused:
        await service.update_article(
            services,
            EDITOR,
            search=search,
            ref="refunds",
            category=str(edit.get("category", "payments")),
            status=str(edit.get("status", "published")),
            edits={"en": TranslationEdit(translation)},
        )
    assert refused.value.extra["field"] == field
    with pytest.raises(ValidationFailedError):
        await service.create_article(
            services,
            EDITOR,
            search=search,
            slug="a-new-one",
            category=str(edit.get("category", "payments")),
            status=str(edit.get("status", "published")),
            translations={"en": translation, "zh-CN": translation},
        )
    assert await count_rows(engine) == before
    assert await audit_actions(engine) == audited


async def test_titles_and_tags_are_trimmed_by_the_service(services_app: FastAPI) -> None:
    services, search = app_services(services_app), app_help_search(services_app)
    saved = await service.update_article(
        services,
        EDITOR,
        search=search,
        ref="refunds",
        edits={"en": TranslationEdit(Translation("  Refunds  ", "Body.", (" a ", "", "b")))},
    )
    assert (saved.versions["en"].title, saved.versions["en"].tags) == ("Refunds", ("a", "b"))
    with pytest.raises(ValidationFailedError) as refused:
        await service.create_article(
            services,
            EDITOR,
            search=search,
            slug="Not A Slug",
            category="payments",
            status="published",
            translations={"en": Translation("t", "b"), "zh-CN": Translation("t", "b")},
        )
    assert refused.value.extra["field"] == "slug"
