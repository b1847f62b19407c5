"""Call-back requests and logged phone calls as the API (and other code) reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from ewallet.help.views import CHINA_TIME, Contact
from ewallet.kit.errors import ValidationFailedError

_CLOCK: Final = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True, slots=True)
class CallbackView:
    id: str
    user_id: str
    phone: str
    topic: str
    preferred_from: datetime
    preferred_to: datetime
    status: str
    outcome: str | None
    handled_by: str | None
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class LoggedCall:
    """The ticket a phone call became, and the customer it was attached to (if known)."""

    ticket_id: str
    user_id: str | None


@dataclass(frozen=True, slots=True)
class Slot:
    """A call-back window within a day, ``HH:MM-HH:MM`` in China time (``24:00`` ends the day).

    What a booking form offers: :func:`ewallet.callbacks.service.callback_desk` cuts the
    hotline's opening hours into such slots, and :meth:`window` turns the one chosen, on
    the day chosen, into the ``preferred_from`` / ``preferred_to`` of a request.
    """

    start: str
    end: str

    @property
    def label(self) -> str:
        return f"{self.start}-{self.end}"

    @classmethod
    def parse(cls, text: str) -> Slot:
        """``"09:00-10:00"``; refusal: anything else (``validation_error``)."""
        start, _, end = text.partition("-")
        if not (_CLOCK.fullmatch(start) and (_CLOCK.fullmatch(end) or end == "24:00")):
            raise ValidationFailedError("a slot is HH:MM-HH:MM")
        return cls(start, end)

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The slot on ``day`` as aware datetimes in China time."""
        start = datetime.combine(day, _clock(self.start), CHINA_TIME)
        if self.end == "24:00":
            return start, datetime.combine(day + timedelta(days=1), time(0), CHINA_TIME)
        end = datetime.combine(day, _clock(self.end), CHINA_TIME)
        return start, end if end > start else end + timedelta(days=1)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class CallbackDesk:
    """What a customer needs to ask for a call-back: how to reach us, the number we would
    call, their requests (newest first), and the days and slots a request may choose from
    (``suggested``: the first slot still ahead, to preselect)."""

    contact: Contact
    phone: str
    callbacks: list[CallbackView]
    days: list[date]
    slots: list[Slot]
    suggested: tuple[date, Slot] | None
