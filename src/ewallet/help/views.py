"""What help's services hand back, and what other features may read.

Articles are frozen copies of the rows (an article with the current version of each of its
languages), so nothing outside a unit of work touches a row. :class:`Hours` is how support's
opening hours are read anywhere (call-backs use it to place a call in an opening period).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from markupsafe import Markup

from ewallet.help.articles import Translation
from ewallet.help.diff import DiffLine
from ewallet.kit.i18n import EN, Locale

CHINA_TIME: Final = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Version:
    """One revision of one language version."""

    locale: str
    revision: int
    title: str
    body: str
    tags: tuple[str, ...]
    source: str
    author_id: str | None
    created_at: datetime

    def same_text(self, translation: Translation) -> bool:
        return (self.title, self.body.strip(), self.tags) == (
            translation.title,
            translation.body.strip(),
            translation.tags,
        )


@dataclass(frozen=True, slots=True)
class Article:
    """An article with the current version of each of its languages."""

    id: str
    slug: str
    category: str
    status: str
    created_at: datetime
    updated_at: datetime
    versions: dict[str, Version] = field(default_factory=dict)

    def version(self, locale: str) -> Version:
        """The version in ``locale``, else the other one (every article should have both)."""
        found = self.versions.get(locale)
        if found is not None:
            return found
        return next(iter(self.versions.values()))


@dataclass(frozen=True, slots=True)
class ArticlePreview:
    """Unsaved text as the help centre would show it: the article's HTML (escaped, see
    :mod:`ewallet.help.markdown`) and the summary search results show."""

    title: str
    html: Markup
    summary: str


@dataclass(frozen=True, slots=True)
class RevisionDiff:
    """What changed in one language between two revisions: ``lines`` is the body's line
    difference (empty when only the title or tags changed)."""

    article: Article
    locale: str
    older: Version
    newer: Version
    lines: tuple[DiffLine, ...]

    @property
    def title_changed(self) -> bool:
        return self.older.title != self.newer.title

    @property
    def tags_changed(self) -> bool:
        return self.older.tags != self.newer.tags


@dataclass(frozen=True, slots=True)
class Found:
    """A search result: the article and its BM25 score (None when listing without a query)."""

    article: Article
    score: float | None


class Match(StrEnum):
    """How well a search answer fits its query (``match`` in ``GET /v1/help/articles``)."""

    GOOD = "good"
    WEAK = "weak"  # the closest articles we have; the reader is offered a person too


@dataclass(frozen=True, slots=True)
class Answer:
    """A search's articles (never empty while any article is published), their fit (None
    when listing without a query) and, for a weak fit, how to reach a person."""

    found: list[Found]
    match: Match | None
    contact: Contact | None = None


@dataclass(frozen=True, slots=True)
class TranslationEdit:
    """A staff edit of one language; ``base_revision`` guards against overwriting a colleague."""

    translation: Translation
    base_revision: int | None = None


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    article_id: str
    slug: str
    title: str
    helpful: int
    not_helpful: int

    @property
    def total(self) -> int:
        return self.helpful + self.not_helpful

    @property
    def helpful_ratio(self) -> float | None:
        return self.helpful / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int


def _clock_time(text: str) -> time:
    if text == "24:00":
        return time.max
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class Hours:
    """Opening hours ``HH:MM-HH:MM`` in China time.

    An end before the start runs past midnight (``22:00-06:00``), and ``00:00-24:00`` is
    around the clock.
    """

    opens: str
    closes: str

    @classmethod
    def parse(cls, text: str) -> Hours:
        opens, closes = text.split("-")
        return cls(opens, closes)

    @property
    def around_the_clock(self) -> bool:
        return self.opens == "00:00" and self.closes == "24:00"

    def open_at(self, moment: datetime) -> bool:
        if self.around_the_clock:
            return True
        local = moment.astimezone(CHINA_TIME).time()
        start = _clock_time(self.opens)
        end = _clock_time(self.closes)
        if start <= end:
            return start <= local < end
        return local >= start or local < end  # past midnight

    def period_containing(self, moment: datetime) -> tuple[datetime, datetime] | None:
        """The opening period (start, end) that ``moment`` falls in; None while closed."""
        if self.around_the_clock:
            return (moment, datetime.max.replace(tzinfo=CHINA_TIME))
        if not self.open_at(moment):
            return None
        local = moment.astimezone(CHINA_TIME)
        start_time, end_time = _clock_time(self.opens), _clock_time(self.closes)
        day = local.date()
        if start_time > end_time and local.time() < end_time:
            day -= timedelta(days=1)  # in the small hours of a period that began yesterday
        start = datetime.combine(day, start_time, CHINA_TIME)
        end_day = day + timedelta(days=1) if start_time > end_time else day
        end = (
            datetime.combine(end_day + timedelta(days=1), time(0), CHINA_TIME)
            if self.closes == "24:00"
            else datetime.combine(end_day, end_time, CHINA_TIME)
        )
        return (start, end)

    def describe(self, locale: Locale) -> str:
        if self.around_the_clock:
            return "24 hours a day, every day" if locale == EN else "全天 24 小时服务"
        if locale == EN:
            return f"Daily {self.opens}-{self.closes} (China time)"
        return f"每天 {self.opens}-{self.closes}（北京时间）"


@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach customer service now (``GET /v1/help/contact``)."""

    hotline: str
    hours: Hours
    open_now: bool
    hours_text: str
    chat_available: bool
    chat_path: str | None
    agents_online: bool
    email: str
    tickets_path: str  # a written question, answered in the ticket (at any hour)
    callbacks_path: str  # a call from an agent in a window the customer picks
