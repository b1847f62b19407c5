"""Messages read by people: Beijing time in words, and no English sentence in a Chinese answer.

The sweep walks every notice kind and every error code the catalogue knows, renders its
zh-CN text with sample values and fails on a run of three or more ASCII words -- an
English sentence (or the start of one) that would reach a Chinese reader. Single Latin
tokens (a brand, ``App``, ``JSON``, a masked card) are fine and need no allow-list entry;
the allow-list names the few multi-word ones a Chinese text may carry on purpose.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

import ewallet.http.idempotency
import ewallet.kit.money
import ewallet.kit.pagination
import ewallet.ledger.errors  # noqa: F401  (registers the ledger's error classes)
from ewallet.http.problem import problem_response
from ewallet.kit import i18n
from ewallet.kit.errors import DomainError
from ewallet.kit.human_time import (
    compact,
    humanize_moments,
    in_words,
    iso_local,
    parse_moment,
)
from ewallet.notify.templates import NOTICES, render

# 2026-12-07 14:16 UTC is 22:16 in Beijing.
MOMENT = datetime(2026, 12, 7, 14, 16, 5, tzinfo=UTC)
STORED = MOMENT.isoformat(timespec="minutes")  # what a notice keeps: "2026-12-07T14:16+00:00"
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,;:/.]+[A-Za-z][A-Za-z'’-]*){2,}")
_CJK = re.compile(r"[\u4e00-\u9fff]")
ALLOWED_RUNS: frozenset[str] = frozenset()  # none needed today; add a phrase only with a why
# Sample values of notice fields, as the services pass them (moments as stored).
MOMENT_FIELDS = frozenset({"time", "until", "due", "expires", "requested"})
SAMPLES = {
    "amount": "120.50",
    "fee": "2.00",
    "cap": "200",
    "currency": "CNY",
    "payer": "张*伟 (139****0002)",
    "payee": "张*伟 (139****0002)",
    "other": "张*伟 (139****0002)",
    "merchant": "示例便利店",
    "biller": "国网上海电力",
    "account": "100***0001",
    "receipt_no": "BR202612070000000001",
    "device": "iPhone",
    "hotline": "95588",
    "tier": "II",
    "branch": "SH01",
    "reference": "TKT-7K3M9Q2A",
    "subject": "银行卡解绑",
    "memo": "房租",
    "note": "聚餐 AA",
    "new_phone": "139****0002",
}


def english_runs(text: str) -> list[str]:
    return [run for run in ENGLISH_RUN.findall(text) if run not in ALLOWED_RUNS]


def _fields(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", text))


def _params(kind: str) -> dict[str, str]:
    _title, body = NOTICES[kind]
    names = _fields(body.zh_cn) | _fields(body.en)
    return {name: STORED if name in MOMENT_FIELDS else SAMPLES.get(name, "示例") for name in names}


# --- one spelling of a moment ---------------------------------------------------------


def test_a_moment_in_words_is_beijing_time_in_the_readers_language() -> None:
    assert in_words(MOMENT, "zh-CN") == "2026年12月7日 22:16"
    assert in_words(MOMENT, "en") == "7 Dec 2026, 22:16 (Beijing time)"
    # The Beijing date, not the UTC one: 17:00 UTC on the 31st is New Year's Day there.
    new_year = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert in_words(new_year, "zh-CN") == "2027年1月1日 01:00"
    assert in_words(new_year, "en") == "1 Jan 2027, 01:00 (Beijing time)"
    # Any offset in, Beijing out; a naive time is UTC (what SQLite hands back).
    assert in_words(MOMENT.astimezone(timezone(timedelta(hours=-5))), "zh-CN") == (
        "2026年12月7日 22:16"
    )
    assert in_words(MOMENT.replace(tzinfo=None), "zh-CN") == "2026年12月7日 22:16"


def test_tables_and_files_spell_it_compactly_and_in_iso_8601() -> None:
    assert compact(MOMENT) == "2026-12-07 22:16"
    assert compact(None) == ""
    assert iso_local(MOMENT) == "2026-12-07T22:16:05+08:00"


def test_only_aware_iso_moments_are_humanized() -> None:
    shown = humanize_moments(
        {
            "time": STORED,
            "z": "2026-12-07T14:16:05Z",
            "aware": MOMENT,
            "day": "2026-12-07",
            "naive": "2026-12-07T14:16",
            "amount": "120.50",
            "phone": "+8613800000001",
        },
        "zh-CN",
    )
    assert shown == {
        "time": "2026年12月7日 22:16",
        "z": "2026年12月7日 22:16",
        "aware": "2026年12月7日 22:16",
        "day": "2026-12-07",
        "naive": "2026-12-07T14:16",
        "amount": "120.50",
        "phone": "+8613800000001",
    }
    assert parse_moment(date(2026, 12, 7)) is None


def test_a_stored_notice_reads_in_beijing_time_in_either_language() -> None:
    params = {"time": STORED, "amount": "120.50", "currency": "CNY"}
    _, zh = render("topup_succeeded", params, "zh-CN")
    _, en = render("topup_succeeded", params, "en")
    assert zh == "您的钱包已于 2026年12月7日 22:16 充值到账 120.50 元。"
    assert en == "120.50 CNY was added to your wallet at 7 Dec 2026, 22:16 (Beijing time)."


# --- no English sentence in a Chinese answer ----------------------------------------


@pytest.mark.parametrize("kind", sorted(NOTICES))
def test_every_notice_reads_wholly_in_chinese_and_wholly_in_english(kind: str) -> None:
    params = _params(kind)
    title, body = render(kind, params, "zh-CN")
    assert english_runs(title + body) == [], kind
    assert "{" not in body, body  # every field filled
    assert "T14:16" not in body
    assert "+00:00" not in body
    assert " CNY" not in body
    if params.keys() & MOMENT_FIELDS:
        assert "2026年12月7日 22:16" in body
    en_title, en_body = render(kind, {**params, **_english_names(params)}, "en")
    assert not _CJK.search(en_title + en_body), kind
    if params.keys() & MOMENT_FIELDS:
        assert "7 Dec 2026, 22:16 (Beijing time)" in en_body


def _english_names(params: dict[str, str]) -> dict[str, str]:
    """The Chinese sample values an English reader would see as names (a merchant's own
    name is what it is), replaced so the test looks at our wording only."""
    return {key: "Name" for key, value in params.items() if _CJK.search(value)}


def _domain_codes() -> set[str]:
    found: set[str] = set()
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        found.add(cls.code)
        pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("code", sorted(set(i18n.TITLES) | _domain_codes()))
def test_every_error_code_answers_a_chinese_reader_in_chinese(code: str) -> None:
    # An error's own detail is an English sentence written for logs.
    own = "the wallet of user 42 has 3.00 less than the amount asked"
    title = i18n.title(code, "zh-CN")
    detail = i18n.detail(code, own, "zh-CN")
    assert _CJK.search(title), code
    assert english_runs(title) == [], (code, title)
    assert english_runs(detail) == [], (code, detail)
    assert english_runs(i18n.title_and_detail(code, own, "zh-CN")) == []
    # English readers keep the precise sentence.
    assert i18n.detail(code, own, "en") == own


def test_a_chinese_own_detail_is_kept_and_a_repeated_title_is_said_once() -> None:
    assert i18n.detail("maintenance_custom", "今晚 23:00 起维护一小时", "zh-CN") == (
        "今晚 23:00 起维护一小时"
    )
    assert i18n.title_and_detail("insufficient_balance", "need 5.00 more", "zh-CN") == "余额不足"
    assert i18n.title_and_detail("insufficient_balance", "need 5.00 more", "en") == (
        "The balance is not sufficient: need 5.00 more"
    )


@pytest.mark.parametrize("kind", sorted(i18n.FIELD_MESSAGES))
def test_every_field_complaint_has_a_chinese_wording(kind: str) -> None:
    said = i18n.field_message(kind, "Field required", "zh-CN")
    assert _CJK.search(said)
    assert english_runs(said) == []
    assert i18n.field_message(kind, "Field required", "en") == "Field required"


def test_a_validation_answer_to_a_chinese_reader_names_fields_in_chinese() -> None:
    errors = [
        {"loc": ["body", "amount"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "memo"], "msg": "String should have at most 40 characters", "type": "x"},
        "not a dict: left as it is",
    ]
    for locale, expected in (
        ("zh-CN", ["缺少该字段", i18n.FIELD_INVALID]),
        ("en", ["Field required", "String should have at most 40 characters"]),
    ):
        response = problem_response(
            code="validation_error",
            status=422,
            locale=locale,  # type: ignore[arg-type]
            detail="amount: Field required",
            extra={"errors": errors},
        )
        body = json.loads(bytes(response.body))
        assert [e["msg"] for e in body["errors"][:2]] == expected
        assert body["errors"][0]["loc"] == ["body", "amount"]
        assert body["errors"][2] == "not a dict: left as it is"
        if locale == "zh-CN":
            assert english_runs(body["title"] + body["detail"]) == []
