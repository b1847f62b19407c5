"""How to reach customer service: hotline, hours, online chat, email (all from settings).

Hours are ``HH:MM-HH:MM`` in China time; an end before the start runs past midnight
(``22:00-06:00``), and ``00:00-24:00`` is around the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from ewallet.config import Settings
from ewallet.kit.i18n import EN, Locale

CHINA_TIME: Final = ZoneInfo("Asia/Shanghai")
CHAT_PATH: Final = "/v1/support/chat"


@dataclass(frozen=True, slots=True)
class Hours:
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
    hotline: str
    hours: Hours
    open_now: bool
    hours_text: str
    chat_available: bool
    chat_path: str | None
    email: str


def _clock_time(text: str) -> time:
    if text == "24:00":
        return time.max
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def contact_details(settings: Settings, *, now: datetime, locale: Locale) -> Contact:
    hours = Hours.parse(settings.support_hours)
    open_now = hours.open_at(now)
    # Chat is answered by a bot first, so it is offered whenever the feature is switched on.
    chat = settings.support_chat_enabled
    return Contact(
        hotline=settings.hotline,
        hours=hours,
        open_now=open_now,
        hours_text=hours.describe(locale),
        chat_available=chat,
        chat_path=CHAT_PATH if chat else None,
        email=settings.support_email,
    )
