"""When a report is due: a number of working days after a date (pure, no I/O).

The 2016 rules give five working days. Working days are counted Monday to Friday; the
State Council's public holidays and their make-up working days are not known here, so a
due date near a holiday is an approximation a compliance officer checks against the
official calendar (docs/aml-reports.md).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

REPORT_WORKING_DAYS: Final = 5
SATURDAY: Final = 5


def add_working_days(start: date, days: int = REPORT_WORKING_DAYS) -> date:
    """The ``days``-th working day (Monday to Friday) after ``start``."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < SATURDAY:
            left -= 1
    return current
