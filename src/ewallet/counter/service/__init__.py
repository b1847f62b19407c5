"""The counter-deposit use cases, one module per group.

- :mod:`.deposits` -- checking a slip before the cash is taken, taking it (credited at once
  below the large-cash threshold, else waiting), and a second person's approval or
  rejection; the counter's terms for customers and tellers;
- :mod:`.reading` -- one deposit, the list, a deposit's printed receipt and the
  large-cash report.

Each public function takes the :class:`~ewallet.services.Services` first, then the staff
member who acts, and does the whole use case: its units of work and audit events. The
names are re-exported here, where the endpoints and pages import them.
"""

from __future__ import annotations

from ewallet.counter.service.deposits import (
    COUNTER_CURRENCY,
    CounterPolicy,
    DepositSlip,
    Recorded,
    approve_deposit,
    counter_desk,
    counter_terms,
    create_deposit,
    preview_deposit,
    reject_deposit,
)
from ewallet.counter.service.reading import (
    DEFAULT_REPORT_DAYS,
    MAX_REPORT_DAYS,
    LargeCashReport,
    ReportWindow,
    deposit_receipt,
    get_deposit,
    large_cash_report,
    list_deposits,
)

__all__ = [
    "COUNTER_CURRENCY",
    "DEFAULT_REPORT_DAYS",
    "MAX_REPORT_DAYS",
    "CounterPolicy",
    "DepositSlip",
    "LargeCashReport",
    "Recorded",
    "ReportWindow",
    "approve_deposit",
    "counter_desk",
    "counter_terms",
    "create_deposit",
    "deposit_receipt",
    "get_deposit",
    "large_cash_report",
    "list_deposits",
    "preview_deposit",
    "reject_deposit",
]
