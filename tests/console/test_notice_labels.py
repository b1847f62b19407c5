"""Every notice kind the wallet can send (``notify.templates.NOTICES``; ``notify_user``
refuses any other) has a label in the console's list of a customer's notices, in Chinese
and in English -- a kind added later cannot show up there as a bare code."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

import pytest

from ewallet.agent_context.repository import NoticeRow
from ewallet.agent_context.service import notice_brief
from ewallet.notify.templates import NOTICES

_CJK: Final = re.compile(r"[\u3400-\u9fff]")
SENT: Final = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _row(kind: str) -> NoticeRow:
    return NoticeRow(
        id=f"ntf_{kind}", kind=kind, params={}, created_at=SENT, read_at=None, is_security=False
    )


def test_the_templates_cover_this_issues_kinds() -> None:
    for kind in (
        "money_request_received",
        "transfer_arrived",
        "card_payment_failed",
        "card_transfer_succeeded",
        "card_transfer_failed",
        "phone_changed",
        "account_closed",
        "data_copy_ready",
        "account_unfrozen",
    ):
        assert kind in NOTICES, kind


@pytest.mark.parametrize("kind", sorted(NOTICES))
def test_every_notice_kind_has_a_label_in_both_languages(kind: str) -> None:
    chinese = notice_brief(_row(kind), "zh-CN")
    english = notice_brief(_row(kind), "en")
    assert chinese.kind == english.kind == kind
    assert chinese.title.strip()
    assert chinese.title != kind
    assert _CJK.search(chinese.title), chinese.title
    assert english.title.strip()
    assert english.title != kind
    assert not _CJK.search(english.title), english.title
    assert "{" not in chinese.title + english.title
    assert chinese.body
    assert english.body


def test_an_unknown_kind_is_still_listed_by_its_code() -> None:
    brief = notice_brief(_row("from_a_newer_version"), "en")
    assert (brief.title, brief.body) == ("from_a_newer_version", "")
