"""Structured logs: one JSON object per line, request id bound, personal numbers masked.

Both structlog loggers and the standard library's (uvicorn, SQLAlchemy, Alembic) end in the
same handler, so every line has the same shape: ``timestamp``, ``level``, ``event``,
``request_id`` (null outside a request) and the event's own keys. The masking processor
runs last before rendering, over every string value (tracebacks included), because a phone
or card number can reach a log line through any message, not only through known keys.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, Final, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from ewallet.config import Settings

_HANDLER_NAME: Final = "ewallet"

# Digits may be ASCII or full-width (１３８...: typed by Chinese input methods); separators
# a space or hyphen of either width. Letters or digits right next to a number mean it is
# part of something else (an id, a longer number): left alone.
_DIGIT: Final = "[0-9\uff10-\uff19]"
_SEP: Final = "[ \\-\u3000\uff0d]"
_NOT_ALNUM_BEFORE: Final = "(?<![0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a])"
_NOT_ALNUM_AFTER: Final = "(?![0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a])"
# A mainland mobile number: 11 digits starting with 1 (1xx xxxx xxxx), optionally with
# +86/0086 in front and single separators between the groups.
_PHONE_RE: Final = re.compile(
    rf"{_NOT_ALNUM_BEFORE}(?P<cc>(?:[+\uff0b]|[0\uff10]{{2}})[8\uff18][6\uff16]{_SEP}?)?"
    rf"(?P<head>[1\uff11]{_DIGIT}{{2}}){_SEP}?(?P<mid>{_DIGIT}{{4}}){_SEP}?"
    rf"(?P<tail>{_DIGIT}{{4}}){_NOT_ALNUM_AFTER}"
)
# A resident ID number: 17 digits and a check character, a digit or X (either case, width).
_ID_RE: Final = re.compile(
    rf"{_NOT_ALNUM_BEFORE}{_DIGIT}{{17}}[0-9Xx\uff10-\uff19\uff38\uff58]{_NOT_ALNUM_AFTER}"
)
# A bank-card-like number: 13-19 digits, contiguous or in groups of four.
_CARD_RE: Final = re.compile(
    rf"{_NOT_ALNUM_BEFORE}(?:{_DIGIT}{{13,19}}|{_DIGIT}{{4}}(?:{_SEP}{_DIGIT}{{4}}){{2,3}}"
    rf"(?:{_SEP}{_DIGIT}{{1,4}})?){_NOT_ALNUM_AFTER}"
)
_SEPARATORS: Final = re.compile(_SEP)


def _mask_phone(match: re.Match[str]) -> str:
    prefix = match.group("cc") or ""
    return f"{prefix}{match.group('head')}****{match.group('tail')}"


def _mask_id(match: re.Match[str]) -> str:
    number = match.group(0)
    return number[:6] + "*" * 8 + number[-4:]


def _mask_card(match: re.Match[str]) -> str:
    digits = _SEPARATORS.sub("", match.group(0))
    if not 13 <= len(digits) <= 19:
        return match.group(0)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def mask_text(text: str) -> str:
    """``text`` with phone numbers as ``138****5678``, ID numbers as ``110101********123X``
    and card numbers as ``622202******1234`` (full-width digits too)."""
    masked = _PHONE_RE.sub(_mask_phone, text)
    return _CARD_RE.sub(_mask_card, _ID_RE.sub(_mask_id, masked))


def mask_value(value: Any) -> Any:
    """Mask every string inside ``value``, walking dicts, lists and tuples."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(mask_value(item) for item in value)
    return value


def mask_personal_numbers(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask phone and card numbers in every string value."""
    return {key: mask_value(value) for key, value in event_dict.items()}


def _ensure_request_id(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    event_dict.setdefault("request_id", None)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _ensure_request_id,
    ]


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Send every log line, ours and the libraries', through one masking JSON handler.

    Calling it again replaces the previous handler, so tests and reloads do not double lines.
    """
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_personal_numbers,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # Uvicorn's own access log is replaced by ours (see ewallet.http.middleware).
    logging.getLogger("uvicorn.access").disabled = True
    # Alembic announces its context on every /readyz probe; callers log the revision instead.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: tests swap configurations (structlog.testing.capture_logs) at will.
        cache_logger_on_first_use=False,
    )
