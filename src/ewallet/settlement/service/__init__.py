"""Settlement's use cases, one module per group.

- :mod:`.payout_accounts` -- registering (audited) and reading where a merchant or biller
  is paid;
- :mod:`.run` -- the daily run for a business day: what each party is owed, its row and
  hold, then its payout (docs/settlement.md); the day's bounds and the day a run settles;
- :mod:`.payouts` -- asking the bank to pay, recording its answer (paid, declined, unknown),
  and finishing open payouts from the bank's records (the periodic job);
- :mod:`.reading` -- a party's settlements, one settlement, its statement, and the reads
  reconciliation and staff tools use.

Each public function takes the :class:`~ewallet.services.Services` first and does the
whole use case: its units of work and audit events. The names are re-exported here, where
the endpoints, pages, jobs, the CLI and reconciliation import them.
"""

from __future__ import annotations

from ewallet.settlement.service.payout_accounts import (
    MAX_HOLDER_NAME,
    get_payout_account,
    set_payout_account,
)
from ewallet.settlement.service.payouts import (
    fail_payout,
    request_id_of,
    settle_open_payouts,
    succeed_payout,
)
from ewallet.settlement.service.reading import (
    get_settlement,
    get_statement,
    list_settlements,
    paid_between,
    settlement_by_id,
)
from ewallet.settlement.service.run import (
    DEFAULT_CONCURRENCY,
    EPOCH,
    Progress,
    day_window,
    due_day,
    run_settlement,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "EPOCH",
    "MAX_HOLDER_NAME",
    "Progress",
    "day_window",
    "due_day",
    "fail_payout",
    "get_payout_account",
    "get_settlement",
    "get_statement",
    "list_settlements",
    "paid_between",
    "request_id_of",
    "run_settlement",
    "set_payout_account",
    "settle_open_payouts",
    "settlement_by_id",
    "succeed_payout",
]
