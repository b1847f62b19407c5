"""The packaged articles: both languages, valid front matter, every seed question covered."""

from __future__ import annotations

from pathlib import Path

import pytest

from ewallet.help.articles import (
    CATEGORIES,
    DEFAULT_DIR,
    ArticleFormatError,
    ArticleSource,
    Translation,
    parse_file,
    read_dir,
    render_file,
    write_dir,
)
from ewallet.models.help import HELP_LOCALES
from tests.help.test_whole_product import IN_PROGRESS

# The questions of the seed article, and what users ask next (issue #6), by the article
# that answers each.
REQUIRED_SLUGS = {
    "register-account",  # how to register and start
    "registration-failed",  # Q1: why registration fails
    "verification-code-not-received",
    "payment-failed",  # Q2: errors when paying
    "insufficient-balance",
    "payment-network-error",
    "merchant-not-supported",
    "forgot-payment-password",  # Q3
    "forgot-login-password",
    "payment-password-locked",
    "bind-card",
    "unbind-card",  # Q4
    "account-security-tips",  # Q5
    "top-up-methods",  # Q6
    "top-up-limits",
    "top-up-alipay-wechat",
    "counter-deposit",
    "withdrawal-fees",
    "transfer-money",
    "spending-limits",
    "account-classes",
    "freeze-account",
    "unfreeze-account",
    "suspicious-activity",
    "maintenance",
    "contact-us",  # hotline, online chat, email
}


@pytest.fixture(scope="module")
def defaults() -> list[ArticleSource]:
    return read_dir(DEFAULT_DIR)


def test_at_least_thirty_articles_each_in_both_languages(defaults: list[ArticleSource]) -> None:
    assert len(defaults) >= 30
    for article in defaults:
        assert set(article.translations) == set(HELP_LOCALES), article.slug
        assert article.category in CATEGORIES
        assert article.status == "published" or article.slug in IN_PROGRESS
        for locale, translation in article.translations.items():
            assert translation.title, (article.slug, locale)
            assert translation.tags, (article.slug, locale)
            assert len(translation.body) > 120, (article.slug, locale)


def test_every_seed_question_has_its_article(defaults: list[ArticleSource]) -> None:
    assert {article.slug for article in defaults} >= REQUIRED_SLUGS


def test_facts_match_the_product(defaults: list[ArticleSource]) -> None:
    by_slug = {article.slug: article for article in defaults}
    fees = by_slug["withdrawal-fees"].translations
    for fact in ("¥20,000", "0.1 %", "¥0.10"):
        assert fact in fees["en"].body
    for fact in ("2 万元", "0.1%", "0.10 元"):
        assert fact in fees["zh-CN"].body
    classes = by_slug["account-classes"].translations["en"].body
    assert "¥1,000 in total" in classes
    assert "¥100,000 a year" in classes
    assert "¥200,000 a year" in classes
    locked = by_slug["payment-password-locked"].translations["zh-CN"].body
    assert "3 次" in locked
    assert "3 小时" in locked
    assert "95588" in by_slug["contact-us"].translations["zh-CN"].body


def test_a_file_reads_back_exactly_as_written() -> None:
    translation = Translation(
        "忘记支付密码怎么办", "正文第一段。\n\n- 一\n- 二\n", ("忘记", "重置")
    )
    text = render_file(slug="forgot-pin", category="security", translation=translation)
    meta, body = parse_file(text)
    assert meta == {
        "slug": "forgot-pin",
        "category": "security",
        "title": "忘记支付密码怎么办",
        "tags": "忘记, 重置",
    }
    assert body == translation.body


def test_a_folder_round_trips(tmp_path: Path, defaults: list[ArticleSource]) -> None:
    hidden = ArticleSource(
        "old-notice",
        "support",
        {"en": Translation("Old", "Body\n"), "zh-CN": Translation("旧", "正文\n")},
        "hidden",
    )
    write_dir(tmp_path, [*defaults, hidden])
    again = read_dir(tmp_path)
    assert again == sorted([*defaults, hidden], key=lambda a: a.slug)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.en.md", "no front matter", "must start with"),
        ("a.en.md", "---\nslug: a\ncategory: support\ntitle: A\n", "not closed"),
        ("a.en.md", "---\nslug: a\ncategory: support\n---\nbody", "needs 'title'"),
        ("a.en.md", "---\nslug: a\ncategory: nowhere\ntitle: A\n---\nbody", "category must"),
        ("a.en.md", "---\nslug: b\ncategory: support\ntitle: A\n---\nbody", "!= file name"),
        ("a.en.md", "---\nslug: a\nauthor: me\n---\nbody", "unknown front matter"),
        ("a.fr.md", "---\nslug: a\ncategory: support\ntitle: A\n---\nbody", "name must be"),
    ],
)
def test_malformed_files_are_refused_with_the_reason(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ArticleFormatError, match=message):
        read_dir(tmp_path)
