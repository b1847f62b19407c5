"""Page texts in zh-CN and English: gettext catalogues read from ``web/locale``.

Templates and handlers are written in English (the msgid); each feature keeps its Chinese
translations in ``locale/zh_CN/<feature>.po`` (Babel's PO reader, no compile step). The
locale of a request is the ``lang`` cookie the language switch sets, else
``Accept-Language``, else zh-CN. ``tests/web/test_catalogue.py`` holds every message of
every template and handler to a Chinese translation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources
from typing import Final

from babel.messages.pofile import read_po
from fastapi import Request

from ewallet.kit import i18n
from ewallet.kit.i18n import EN, ZH_CN, Locale

LANG_COOKIE: Final = "lang"
LOCALES: Final[tuple[Locale, ...]] = (ZH_CN, EN)

# Generic details written for API clients (they name JSON members or headers): a person
# reading a page gets the title alone, or the page's own wording.
API_ONLY_DETAILS: Final = frozenset(
    {
        "validation_error",
        "limit_exceeded",
        "idempotency_key_required",
        "idempotency_key_reused",
        "request_in_progress",
    }
)

_current: ContextVar[Locale] = ContextVar("web_locale", default=ZH_CN)


@cache
def catalogue() -> Mapping[str, str]:
    """msgid -> Chinese text, from every ``.po`` file of ``locale/zh_CN`` (cached)."""
    messages: dict[str, str] = {}
    folder = resources.files("ewallet.web") / "locale" / "zh_CN"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.string and not message.fuzzy:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    text = message.string if isinstance(message.string, str) else message.string[0]
                    messages[key] = text
    return messages


def request_locale(request: Request) -> Locale:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen == EN:
        return EN
    if chosen == ZH_CN:
        return ZH_CN
    return i18n.negotiate_locale(request.headers.get("accept-language"))


def translate(message: str, locale: Locale | None = None) -> str:
    """``message`` in ``locale`` (the page being rendered's, by default)."""
    if (locale or _current.get()) == EN:
        return message
    return catalogue().get(message, message)


def N_(message: str) -> str:  # noqa: N802 -- the gettext convention for "translate later"
    """Marks ``message`` for the catalogue where it is defined (a navigation label, ...);
    it is translated where it is shown (``_(label)`` in a template)."""
    return message


def gettext(message: str, **variables: object) -> str:
    """Jinja's newstyle ``gettext``/``_``: translate, then fill ``%(name)s`` placeholders.

    Jinja applies ``%`` formatting to every translated text, so a literal percent sign in
    a message is written ``%%`` (``_("Again in %%s s")`` renders ``Again in %s s``)."""
    text = translate(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, count: int, **variables: object) -> str:
    """Chinese has one form (the catalogue holds it under the singular msgid); English
    picks by ``count``."""
    if _current.get() == EN:
        text = singular if count == 1 else plural
    else:
        text = catalogue().get(singular, singular if count == 1 else plural)
    values = {"num": count, **variables}
    return text % values


@contextmanager
def rendering_in(locale: Locale) -> Iterator[None]:
    """Translate in ``locale`` while a page renders."""
    token = _current.set(locale)
    try:
        yield
    finally:
        _current.reset(token)


def error_message(code: str, detail: str | None, locale: Locale) -> str:
    """A service refusal as one line for a person, wholly in ``locale``: the code's title,
    then the error's own sentence (English readers) or the code's generic one (zh-CN: an
    error's own detail is English, written for logs)."""
    title = i18n.title(code, locale)
    generic = None if code in API_ONLY_DETAILS else i18n.DETAILS.get(code)
    if locale == EN:
        more = detail or (generic.en if generic else "")
        return f"{title}: {more}" if more and more.lower() != title.lower() else title
    if generic is None:
        return title
    if generic.zh_cn.startswith(title):
        return generic.zh_cn
    return f"{title}：{generic.zh_cn}"
