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

# A mainland mobile number: 11 digits starting with 1 (1xx xxxx xxxx), optionally with
# +86/0086 in front and single spaces or dashes between the groups. Letters or digits right
# next to it mean it is part of something else (an id, a longer number): left alone.
_PHONE_RE: Final = re.compile(
    r"(?<![0-9A-Za-z])(?P<cc>(?:\+|00)86[ -]?)?"
    r"(?P<head>1[0-9]{2})[ -]?(?P<mid>[0-9]{4})[ -]?(?P<tail>[0-9]{4})(?![0-9A-Za-z])"
)
# A bank-card-like number: 13-19 digits, contiguous or in groups of four.
_CARD_RE: Final = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,4})?)"
    r"(?![0-9A-Za-z])"
)


def _mask_phone(match: re.Match[str]) -> str:
    prefix = match.group("cc") or ""
    return f"{prefix}{match.group('head')}****{match.group('tail')}"


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    if not 13 <= len(digits) <= 19:
        return match.group(0)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def mask_text(text: str) -> str:
    """``text`` with phone numbers as ``138****5678`` and card numbers as ``622202******1234``."""
    return _CARD_RE.sub(_mask_card, _PHONE_RE.sub(_mask_phone, text))


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
