"""Personal numbers never reach a log line; every line is one JSON object with a request id."""

from __future__ import annotations

import logging

import pytest
import structlog

from ewallet.kit.logging import mask_personal_numbers, mask_text, mask_value
from tests.fixtures.serving import LogLines


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("phone=13812345678", "phone=138****5678"),
        ("手机号13812345678已注册", "手机号138****5678已注册"),
        ("call 138 1234 5678 now", "call 138****5678 now"),
        ("call 138-1234-5678", "call 138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("0086-13812345678", "0086-138****5678"),
        ("a: 13812345678, b: 15900001111", "a: 138****5678, b: 159****1111"),
        ("6222021234567890123", "622202*********0123"),
        ("card 6222021234567890 bound", "card 622202******7890 bound"),
        ("6222 0212 3456 7890", "622202******7890"),
        ("6222-0212-3456-7890-123", "622202*********0123"),
        ("4111111111111", "411111***1111"),
        ("卡号6222021234567890已绑定", "卡号622202******7890已绑定"),
    ],
)
def test_mask_text(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


@pytest.mark.parametrize(
    "untouched",
    [
        "1381234567",  # 10 digits
        "23812345678",  # 11 digits, not starting with 1
        "123456789012",  # 12 digits
        "12345678901234567890",  # 20 digits
        "tr_x13812345678",  # part of an id
        "13812345678abc",
        "amount 12.30 CNY",
        "2026-01-01T00:00:00+00:00",
        "req_01jabcdefghjkmnpqrstvwxyz",
    ],
)
def test_mask_text_leaves_other_text_alone(untouched: str) -> None:
    assert mask_text(untouched) == untouched


def test_mask_value_walks_containers_and_keeps_other_types() -> None:
    value = {
        "user": {"phone": "13812345678", "cards": ["6222021234567890", ("x", "13900001111")]},
        "amount_minor": 13812345678,
        "ok": True,
        "none": None,
    }
    assert mask_value(value) == {
        "user": {"phone": "138****5678", "cards": ["622202******7890", ("x", "139****1111")]},
        "amount_minor": 13812345678,
        "ok": True,
        "none": None,
    }


def test_processor_masks_every_value_including_the_event() -> None:
    event = {"event": "sms sent to 13812345678", "to": ["+86 13812345678"], "n": 1}
    assert mask_personal_numbers(None, "info", event) == {
        "event": "sms sent to 138****5678",
        "to": ["+86 138****5678"],
        "n": 1,
    }


def test_lines_are_json_with_timestamp_level_event_and_request_id(log_lines: LogLines) -> None:
    log = structlog.get_logger("ewallet.test")
    log.info("card.bound", phone="13812345678", card="6222021234567890")
    with structlog.contextvars.bound_contextvars(request_id="req-1"):
        log.warning("inside a request")
    [first, second] = log_lines()
    assert first["event"] == "card.bound"
    assert first["level"] == "info"
    assert first["request_id"] is None
    assert first["phone"] == "138****5678"
    assert first["card"] == "622202******7890"
    assert first["timestamp"].endswith("Z")
    assert second["request_id"] == "req-1"
    assert second["level"] == "warning"


def test_standard_library_logs_get_the_same_shape_and_masking(log_lines: LogLines) -> None:
    with structlog.contextvars.bound_contextvars(request_id="req-2"):
        logging.getLogger("somelib").warning("user %s failed", "13812345678")
    [line] = log_lines()
    assert line["event"] == "user 138****5678 failed"
    assert line["request_id"] == "req-2"
    assert line["level"] == "warning"
    assert line["logger"] == "somelib"


def test_tracebacks_are_masked_too(log_lines: LogLines) -> None:
    log = structlog.get_logger("ewallet.test")
    try:
        raise ValueError("bad card 6222021234567890123")
    except ValueError:
        log.exception("boom")
    [line] = log_lines()
    assert "ValueError: bad card 622202*********0123" in line["exception"]
    assert "6222021234567890123" not in str(line)


def test_levels_below_the_setting_are_dropped(log_lines: LogLines) -> None:
    structlog.get_logger("ewallet.test").debug("noise")
    assert log_lines() == []
