"""Prometheus metrics shared by the HTTP layer, the ledger and the worker."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "ewallet_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "ewallet_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LEDGER_TRANSACTIONS = Counter(
    "ewallet_ledger_transactions_total",
    "Ledger transactions committed, by kind.",
    ["kind"],
)
LEDGER_REFUSALS = Counter(
    "ewallet_ledger_refusals_total",
    "Ledger commands refused (nothing written), by error code.",
    ["code"],
)
LEDGER_BATCH_SIZE = Histogram(
    "ewallet_ledger_batch_size",
    "Ledger commands committed together in one database transaction.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
DB_UNIT_RETRIES = Counter(
    "ewallet_db_unit_retries_total",
    "Retryable database errors in units of work (rerun unless attempts ran out), by reason; "
    "a deadlock is a bug in the lock order.",
    ["reason"],
)
OUTBOX_DELIVERIES = Counter(
    "ewallet_outbox_deliveries_total",
    "Outbox events handled by the worker, by topic and outcome.",
    ["topic", "outcome"],
)
