"""The rate-limit rules of identity, built from settings (see DESIGN.md "Security defaults").

SMS codes: one per phone and purpose every ``sms_resend_seconds``; per phone at most
``sms_per_phone_hour`` an hour and ``sms_per_phone_day`` a day (across purposes: that is
what an SMS-bombing attacker spends); per client address ``sms_per_ip_hour`` an hour.
Sign-in: ``login_per_ip_minute`` attempts a minute per address. Hour and day windows are
clock-aligned (UTC), see :mod:`ewallet.security.ratelimit`.
"""

from __future__ import annotations

from datetime import timedelta

from ewallet.config import Settings
from ewallet.security.ratelimit import Bound, Interval, Rule

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
UNKNOWN_ADDRESS = "unknown"


def code_limits(settings: Settings, *, phone: str, purpose: str, ip: str | None) -> list[Bound]:
    """Every rule a new SMS code must pass, bound to its subjects."""
    return [
        Interval("sms-resend", timedelta(seconds=settings.sms_resend_seconds)).on(phone, purpose),
        Rule("sms-phone-hour", settings.sms_per_phone_hour, HOUR).on(phone),
        Rule("sms-phone-day", settings.sms_per_phone_day, DAY).on(phone),
        Rule("sms-ip-hour", settings.sms_per_ip_hour, HOUR).on(ip or UNKNOWN_ADDRESS),
    ]


def sign_in_limit(settings: Settings, *, ip: str | None) -> Bound:
    return Rule("sign-in-ip", settings.login_per_ip_minute, timedelta(minutes=1)).on(
        ip or UNKNOWN_ADDRESS
    )


def unknown_phone_lock(settings: Settings) -> Interval:
    """The temporary lock emulated for phones without an account (see login_guard)."""
    return Interval("login-lock", timedelta(minutes=settings.login_lock_minutes))


UNKNOWN_PHONE_FAILURES = "login-failures"  # keyed by phone and lock generation
# How many times an unknown phone's lock engaged: its generation (see login_guard).
UNKNOWN_PHONE_LOCKS = "login-locks"
# Failures of unknown phones are forgotten after this much real time; real accounts keep
# theirs until a success or a lock, which no attacker can tell apart within a month.
UNKNOWN_PHONE_FAILURES_TTL = timedelta(days=30)
