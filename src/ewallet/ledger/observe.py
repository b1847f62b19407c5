"""Metrics for committed ledger outcomes (recorded after commit, never before)."""

from __future__ import annotations

from collections.abc import Iterable

from ewallet.kit.metrics import LEDGER_REFUSALS, LEDGER_TRANSACTIONS
from ewallet.ledger.domain import Transaction
from ewallet.ledger.errors import LedgerError


def record_results(results: Iterable[object]) -> None:
    for result in results:
        if isinstance(result, Transaction) and not result.replayed:
            LEDGER_TRANSACTIONS.labels(result.kind).inc()
        elif isinstance(result, LedgerError):
            LEDGER_REFUSALS.labels(result.code).inc()
