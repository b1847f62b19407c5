"""``ewallet ledger verify``: re-derive every invariant of the ledger from its rows.

Each check is one SQL query that returns the offending rows, so a clean ledger of any
size verifies in a handful of scans, and a broken one names exactly what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.kit.db.uow import UnitOfWork, run_unit

SAMPLE_LIMIT = 20

# (name, what it means, SQL returning the violating rows)
CHECKS: tuple[tuple[str, str, str], ...] = (
    (
        "transaction_balances",
        "every transaction's postings sum to zero in each currency",
        """SELECT transaction_id, currency, SUM(amount) AS total FROM ledger_postings
           GROUP BY transaction_id, currency HAVING SUM(amount) <> 0""",
    ),
    (
        "transaction_has_two_postings",
        "every transaction has at least two postings",
        """SELECT t.id, COUNT(p.id) AS postings FROM ledger_transactions t
           LEFT JOIN ledger_postings p ON p.transaction_id = t.id
           GROUP BY t.id HAVING COUNT(p.id) < 2""",
    ),
    (
        "posting_currency",
        "every posting is in its account's currency",
        """SELECT p.id, p.currency, a.currency AS account_currency FROM ledger_postings p
           JOIN ledger_accounts a ON a.id = p.account_id WHERE p.currency <> a.currency""",
    ),
    (
        "cached_posted_balance",
        "each account's cached posted balance, plus its unfolded deltas, equals the sum of "
        "its postings",
        """SELECT a.id, a.code, a.posted, COALESCE(d.total, 0) AS unfolded,
                  COALESCE(s.total, 0) AS postings_total
           FROM ledger_accounts a
           LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_postings
                      GROUP BY account_id) s ON s.account_id = a.id
           LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_balance_deltas
                      GROUP BY account_id) d ON d.account_id = a.id
           WHERE a.posted + COALESCE(d.total, 0)
                 <> CASE WHEN a.normal_side = 'debit' THEN COALESCE(s.total, 0)
                         ELSE -COALESCE(s.total, 0) END""",
    ),
    (
        "deltas_only_on_hot_accounts",
        "balance deltas exist only for hot accounts",
        """SELECT d.id, d.account_id, a.code FROM ledger_balance_deltas d
           JOIN ledger_accounts a ON a.id = d.account_id WHERE NOT a.hot""",
    ),
    (
        "balance_after_chain",
        "each posting of an account that is not hot carries its running balance",
        """SELECT id, account_id, balance_after, running FROM (
             SELECT p.id, p.account_id, p.balance_after, a.hot,
                    CASE WHEN a.normal_side = 'debit' THEN 1 ELSE -1 END
                    * SUM(p.amount) OVER (PARTITION BY p.account_id ORDER BY p.id
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                    AS running
             FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id) chain
           WHERE NOT hot AND (balance_after IS NULL OR balance_after <> running)""",
    ),
    (
        "no_overdraft",
        "no account that may not go negative has a negative available balance",
        """SELECT a.id, a.code, a.posted, COALESCE(d.total, 0) AS unfolded, a.pending_debits,
                  a.pending_credits
           FROM ledger_accounts a
           LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_balance_deltas
                      GROUP BY account_id) d ON d.account_id = a.id
           WHERE NOT a.may_go_negative
             AND a.posted + COALESCE(d.total, 0) - CASE WHEN a.normal_side = 'credit'
                 THEN a.pending_debits ELSE a.pending_credits END < 0""",
    ),
    (
        "pending_debits_match_holds",
        "each account's pending debits equal its pending holds",
        """SELECT a.id, a.code, a.pending_debits, COALESCE(h.total, 0) AS holds_total
           FROM ledger_accounts a
           LEFT JOIN (SELECT debit_account_id, SUM(amount) AS total FROM ledger_holds
                      WHERE status = 'pending' GROUP BY debit_account_id) h
                  ON h.debit_account_id = a.id
           WHERE a.pending_debits <> COALESCE(h.total, 0)""",
    ),
    (
        "pending_credits_match_holds",
        "each account's pending credits equal its pending holds",
        """SELECT a.id, a.code, a.pending_credits, COALESCE(h.total, 0) AS holds_total
           FROM ledger_accounts a
           LEFT JOIN (SELECT credit_account_id, SUM(amount) AS total FROM ledger_holds
                      WHERE status = 'pending' GROUP BY credit_account_id) h
                  ON h.credit_account_id = a.id
           WHERE a.pending_credits <> COALESCE(h.total, 0)""",
    ),
    (
        "posted_holds_have_one_transaction",
        "a posted hold has one transaction moving exactly its posted amount from its debit "
        "to its credit account; other holds have none",
        """SELECT h.id, h.status, h.posted_amount, t.id AS transaction_id FROM ledger_holds h
           LEFT JOIN ledger_transactions t ON t.hold_id = h.id
           WHERE (h.status = 'posted' AND (t.id IS NULL OR h.posted_amount IS NULL
                  OR h.posted_amount > h.amount
                  OR h.posted_amount <> (
                     SELECT COALESCE(SUM(p.amount), 0) FROM ledger_postings p
                     WHERE p.transaction_id = t.id AND p.account_id = h.debit_account_id
                       AND p.amount > 0)
                  OR -h.posted_amount <> (
                     SELECT COALESCE(SUM(p.amount), 0) FROM ledger_postings p
                     WHERE p.transaction_id = t.id AND p.account_id = h.credit_account_id
                       AND p.amount < 0)))
              OR (h.status <> 'posted' AND t.id IS NOT NULL)""",
    ),
    (
        "reversals_mirror_originals",
        "a reversal posts exactly the negation of its original, account by account",
        """SELECT r.id, r.reverses_id FROM ledger_transactions r
           WHERE r.reverses_id IS NOT NULL AND EXISTS (
             SELECT 1 FROM (
               SELECT account_id, currency, SUM(amount) AS total FROM ledger_postings
               WHERE transaction_id = r.id OR transaction_id = r.reverses_id
               GROUP BY account_id, currency) net WHERE net.total <> 0)""",
    ),
)


@dataclass(frozen=True, slots=True)
class Violation:
    check: str
    meaning: str
    rows: list[dict[str, Any]]
    count: int


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checks_run: int
    violations: list[Violation]
    totals: dict[str, int]

    @property
    def clean(self) -> bool:
        return not self.violations


async def _run_checks(conn: AsyncConnection) -> VerifyReport:
    violations = []
    for name, meaning, sql in CHECKS:
        result = await conn.execute(text(sql))
        rows = [dict(row._mapping) for row in result.all()]
        if rows:
            violations.append(Violation(name, meaning, rows[:SAMPLE_LIMIT], len(rows)))
    totals_sql = "SELECT currency, SUM(amount) FROM ledger_postings GROUP BY currency"
    totals = {row[0]: int(row[1]) for row in (await conn.execute(text(totals_sql))).all()}
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        violations.append(
            Violation(
                "ledger_balances",
                "all postings of the ledger sum to zero in each currency",
                [{"currency": c, "total": t} for c, t in unbalanced.items()],
                len(unbalanced),
            )
        )
    return VerifyReport(checks_run=len(CHECKS) + 1, violations=violations, totals=totals)


async def verify_ledger(engine: AsyncEngine) -> VerifyReport:
    """Check every invariant against one snapshot of the ledger.

    PostgreSQL runs the checks in one REPEATABLE READ transaction, so every check and the
    totals see the same moment; a SQLite read transaction in WAL mode is a snapshot already.
    """
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")

    async def work(uow: UnitOfWork) -> VerifyReport:
        return await _run_checks(await uow.connection())

    return await run_unit(engine, work, read_only=True)
