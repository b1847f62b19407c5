"""Help articles as Markdown files: ``<slug>.<locale>.md`` with a small front matter.

The packaged defaults live in ``ewallet/help/articles/`` and ship in the wheel;
``ewallet help import`` reads such a folder and ``ewallet help export`` writes one, so a
folder exported and imported again changes nothing. The front matter is deliberately not
YAML but a handful of ``key: value`` lines (``slug``, ``category``, ``title``, ``tags`` as a
comma-separated list, optional ``status``), which the writer and reader here agree on
exactly::

    ---
    slug: forgot-payment-password
    category: security
    title: 忘记支付密码怎么办
    tags: 忘记支付密码, 找回支付密码, 重置支付密码
    ---
    Body in Markdown ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ewallet.models.help import ARTICLE_STATUSES, HELP_LOCALES, ArticleStatus

DEFAULT_DIR: Final = Path(__file__).resolve().parent / "articles"
CATEGORIES: Final = (
    "account",
    "security",
    "payments",
    "cards",
    "top-up",
    "withdrawals",
    "transfers",
    "limits",
    "support",
)
SLUG: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# How long each part may be: the staff API's schemas, the console and imports agree.
SLUG_MAX: Final = 80
TITLE_MAX: Final = 200
BODY_MAX: Final = 20_000
TAGS_MAX: Final = 30
TAG_MAX: Final = 40
_FILE: Final = re.compile(r"^(?P<slug>[a-z0-9-]+)\.(?P<locale>zh-CN|en)\.md$")
_FENCE: Final = "---"
_KEYS: Final = ("slug", "category", "title", "tags", "status")


class ArticleFormatError(ValueError):
    """A Markdown article file is not in the format described in the module docstring."""


@dataclass(frozen=True, slots=True)
class Translation:
    """One language version of an article."""

    title: str
    body: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ArticleSource:
    """An article in every language it has, as read from (or written to) files."""

    slug: str
    category: str
    translations: dict[str, Translation] = field(default_factory=dict)
    status: str = ArticleStatus.PUBLISHED


def split_tags(text: str) -> tuple[str, ...]:
    """``"a, b ,,c"`` → ``("a", "b", "c")``; full-width commas count too."""
    return tuple(tag.strip() for tag in re.split(r"[,，、]", text) if tag.strip())


def parse_file(text: str, *, name: str = "<article>") -> tuple[dict[str, str], str]:
    """The front matter (as strings) and the body of one file."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != _FENCE:
        raise ArticleFormatError(f"{name}: must start with a '---' front matter line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == _FENCE)
    except StopIteration:
        raise ArticleFormatError(f"{name}: the front matter is not closed by '---'") from None
    meta: dict[str, str] = {}
    for line in lines[1:end]:
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in _KEYS:
            raise ArticleFormatError(f"{name}: unknown front matter line {line!r}")
        meta[key] = value.strip()
    for required in ("slug", "category", "title"):
        if not meta.get(required):
            raise ArticleFormatError(f"{name}: front matter needs {required!r}")
    return meta, "\n".join(lines[end + 1 :]).strip() + "\n"


def render_file(
    *, slug: str, category: str, translation: Translation, status: str = ArticleStatus.PUBLISHED
) -> str:
    """One file's text; :func:`parse_file` reads back exactly what went in."""
    if "\n" in translation.title:
        raise ArticleFormatError(f"{slug}: a title is one line")
    lines = [_FENCE, f"slug: {slug}", f"category: {category}", f"title: {translation.title}"]
    lines.append(f"tags: {', '.join(translation.tags)}")
    if status != ArticleStatus.PUBLISHED:
        lines.append(f"status: {status}")
    lines.append(_FENCE)
    return "\n".join(lines) + "\n" + translation.body.strip() + "\n"


def read_dir(directory: Path) -> list[ArticleSource]:
    """Every ``<slug>.<locale>.md`` under ``directory``, grouped by slug, sorted by slug."""
    if not directory.is_dir():
        raise ArticleFormatError(f"{directory}: not a folder")
    found: dict[str, ArticleSource] = {}
    for path in sorted(directory.glob("*.md")):
        match = _FILE.match(path.name)
        if match is None:
            raise ArticleFormatError(f"{path.name}: name must be <slug>.<zh-CN|en>.md")
        meta, body = parse_file(path.read_text(encoding="utf-8"), name=path.name)
        slug, locale = match["slug"], match["locale"]
        _check(meta, slug=slug, name=path.name)
        translation = Translation(meta["title"], body, split_tags(meta.get("tags", "")))
        article = found.get(slug)
        if article is None:
            article = ArticleSource(
                slug, meta["category"], {}, meta.get("status") or ArticleStatus.PUBLISHED
            )
            found[slug] = article
        elif article.category != meta["category"]:
            raise ArticleFormatError(f"{path.name}: category differs from the other language")
        article.translations[locale] = translation
    return [found[slug] for slug in sorted(found)]


def write_dir(directory: Path, articles: Iterable[ArticleSource]) -> list[Path]:
    """Write one file per article and language; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for article in articles:
        for locale, translation in sorted(article.translations.items()):
            path = directory / f"{article.slug}.{locale}.md"
            text = render_file(
                slug=article.slug,
                category=article.category,
                translation=translation,
                status=article.status,
            )
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def _check(meta: dict[str, str], *, slug: str, name: str) -> None:
    if meta["slug"] != slug:
        raise ArticleFormatError(f"{name}: front matter slug {meta['slug']!r} != file name")
    if not SLUG.match(slug) or len(slug) > SLUG_MAX:
        raise ArticleFormatError(f"{name}: slug must be lowercase words joined by '-'")
    if meta["category"] not in CATEGORIES:
        raise ArticleFormatError(f"{name}: category must be one of {', '.join(CATEGORIES)}")
    if meta.get("status", ArticleStatus.PUBLISHED) not in ARTICLE_STATUSES:
        raise ArticleFormatError(f"{name}: status must be published or hidden")
    if len(meta["title"]) > TITLE_MAX:
        raise ArticleFormatError(f"{name}: title longer than {TITLE_MAX} characters")


__all__ = [
    "BODY_MAX",
    "CATEGORIES",
    "DEFAULT_DIR",
    "HELP_LOCALES",
    "SLUG_MAX",
    "TAGS_MAX",
    "TAG_MAX",
    "TITLE_MAX",
    "ArticleFormatError",
    "ArticleSource",
    "Translation",
    "parse_file",
    "read_dir",
    "render_file",
    "split_tags",
    "write_dir",
]
