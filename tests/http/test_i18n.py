"""Every error code has a title in both languages; Accept-Language picks the right one."""

from __future__ import annotations

import re

import pytest

import ewallet.http.idempotency
import ewallet.kit.money
import ewallet.kit.pagination
import ewallet.ledger.errors  # noqa: F401  (registers the ledger's error classes)
from ewallet.kit import i18n
from ewallet.kit.errors import DomainError

# The code column of API.md's error table, copied here on purpose: the test must fail if a
# code is dropped from the catalog, and API.md is not parsed in CI.
API_MD_CODES = (
    "validation_error",
    "invalid_amount",
    "invalid_phone",
    "phone_already_registered",
    "verification_code_invalid",
    "verification_code_expired",
    "too_many_attempts",
    "rate_limited",
    "weak_password",
    "weak_payment_password",
    "invalid_credentials",
    "step_up_required",
    "unauthorized",
    "forbidden",
    "not_found",
    "payment_password_not_set",
    "payment_password_invalid",
    "payment_password_locked",
    "account_frozen",
    "insufficient_balance",
    "limit_exceeded",
    "merchant_not_supported",
    "order_not_payable",
    "card_invalid",
    "card_not_supported",
    "card_already_bound",
    "card_limit_reached",
    "bank_declined",
    "upstream_unavailable",
    "operation_pending",
    "idempotency_key_required",
    "idempotency_key_reused",
    "maintenance",
    "signature_invalid",
)
EDGE_CODES = (
    "internal_error",
    "method_not_allowed",
    "not_ready",
    "request_in_progress",
    "bad_request",
    "payload_too_large",
    "unsupported_media_type",
    "service_unavailable",
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _all_subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
    found: set[type[DomainError]] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


@pytest.mark.parametrize("code", API_MD_CODES + EDGE_CODES)
def test_every_code_has_both_titles(code: str) -> None:
    text = i18n.TITLES[code]
    assert _CJK.search(text.zh_cn), f"{code}: zh-CN title is not Chinese"
    assert text.en, f"{code}: en title missing"
    assert not _CJK.search(text.en), f"{code}: en title is not English"
    assert i18n.title(code, "zh-CN") == text.zh_cn
    assert i18n.title(code, "en") == text.en


def test_api_md_table_has_34_codes() -> None:
    assert len(set(API_MD_CODES)) == 34


def test_every_domain_error_class_has_a_title() -> None:
    missing = sorted(
        {cls.code for cls in _all_subclasses(DomainError) if cls.code not in i18n.TITLES}
    )
    assert missing == []


def test_generic_details_exist_in_both_languages() -> None:
    for code, text in i18n.DETAILS.items():
        assert code in i18n.TITLES
        assert _CJK.search(text.zh_cn)
        assert text.en


def test_unknown_code_gets_a_generic_title() -> None:
    assert i18n.title("no_such_code", "zh-CN") == i18n.FALLBACK_TITLE.zh_cn
    assert i18n.title("no_such_code", "en") == i18n.FALLBACK_TITLE.en


def test_detail_en_prefers_the_errors_own_sentence() -> None:
    assert i18n.detail("not_found", "card 7 does not exist", "en") == "card 7 does not exist"
    assert i18n.detail("not_found", None, "en") == i18n.DETAILS["not_found"].en
    assert i18n.detail("insufficient_balance", None, "en") == "The balance is not sufficient"


def test_detail_zh_never_shows_english_when_a_translation_exists() -> None:
    assert i18n.detail("not_found", "card 7 does not exist", "zh-CN") == (
        i18n.DETAILS["not_found"].zh_cn
    )
    assert i18n.detail("insufficient_balance", None, "zh-CN") == "余额不足"
    # No generic sentence: the title, never the error's own English sentence.
    assert i18n.detail("insufficient_balance", "need 5.00 more", "zh-CN") == "余额不足"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("EN-gb", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en;q=0.5, zh;q=0.9", "zh-CN"),
        ("zh;q=0.4, en;q=0.6", "en"),
        ("fr", "zh-CN"),
        ("fr, en;q=0.3", "en"),
        ("de, fr;q=0.8", "zh-CN"),
        ("en;q=0", "zh-CN"),
        ("en;q=0, zh-TW", "zh-CN"),
        ("*", "zh-CN"),
        ("en;q=abc", "zh-CN"),
        ("en;q=7", "zh-CN"),
        ("ja, en-AU;q=0.1", "en"),
        (" , ;", "zh-CN"),
    ],
)
def test_negotiate_locale(header: str | None, expected: str) -> None:
    assert i18n.negotiate_locale(header) == expected
