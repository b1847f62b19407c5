"""The Jinja2 environment of the web front ends: autoescaped, strict about undefined names,
with gettext (``{% trans %}``, ``_()``) and the filters every page uses.

Filters: ``money`` (minor units and a currency -> ``¥1,234.50``), ``when`` and ``day``
(aware datetimes in Asia/Shanghai), ``phone`` (masked ``138****0000``). Globals:
``static(path)`` (a cache-busted URL under ``/static``) and ``icon(name, size)`` (kit/icons.py).

``_()`` and ``gettext()`` do what Jinja's newstyle gettext does (translate, then ``%``
with the escaped variables, so ``%%`` is a percent sign) without its two context calls,
and a text without variables is made markup once per text and kept: a console page says
some hundred labels per render, most of them the same on every render.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from typing import Final

import jinja2
from markupsafe import Markup

from ewallet.kit.human_time import compact
from ewallet.risk.limits import CHINA_TIME
from ewallet.web.kit import i18n
from ewallet.web.kit.icons import icon

STATIC_PATH: Final = "/static"
SYMBOLS: Final = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}


def money(minor: int | None, currency: str = "CNY", *, signed: bool = False) -> str:
    """``¥1,234.50`` from minor units; with ``signed``, ``+`` for credits too."""
    if minor is None:
        return ""
    symbol = SYMBOLS.get(currency, currency + " ")
    sign = "-" if minor < 0 else ("+" if signed and minor > 0 else "")
    units = Decimal(abs(minor)) / 100
    return f"{sign}{symbol}{units:,.2f}"


def when(moment: datetime | None) -> str:
    """``2026-12-07 15:04`` in Asia/Shanghai: the one spelling of a moment in a table that
    messages and statements share (:func:`ewallet.kit.human_time.compact`)."""
    return compact(moment)


def day(moment: datetime | date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = moment.astimezone(CHINA_TIME).date()
    return moment.isoformat()


def masked_phone(phone: str | None) -> str:
    """``+8613800138000`` or ``13800138000`` -> ``138****8000``."""
    if not phone:
        return ""
    digits = phone.removeprefix("+86")
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else digits


@cache
def _static_version(path: str) -> str:
    data = (resources.files("ewallet.web") / "static" / path).read_bytes()
    return hashlib.sha256(data).hexdigest()[:10]


def static(path: str) -> str:
    return f"{STATIC_PATH}/{path}?v={_static_version(path)}"


@lru_cache(maxsize=4096)
def _plain_text(text: str) -> Markup:
    """A translated text without variables as Jinja's gettext returns it (``%%`` -> ``%``);
    kept per text (the texts are the templates' and the code's own, a bounded set)."""
    return Markup(text) % {}  # noqa: S704 -- our own catalogue's text, not a reader's


def template_gettext(message: str, **variables: object) -> Markup:
    """Templates' ``_()``/``gettext()``: ``message`` in the language being rendered, then
    ``%`` with ``variables`` escaped (Jinja's newstyle gettext, autoescaped)."""
    text = i18n.translate(message)
    if variables:
        return Markup(text) % variables  # noqa: S704 -- our own catalogue's text
    return _plain_text(text)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ewallet.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    # The same texts as the callables just installed give (every template autoescapes),
    # called directly rather than through Jinja's alias and context (see the module doc).
    env.globals["_"] = env.globals["gettext"] = template_gettext
    env.filters["money"] = money
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["phone"] = masked_phone
    env.globals["static"] = static
    env.globals["icon"] = icon
    return env


TEMPLATES: Final = _environment()
