"""What must hold after a chaos run, read from the wallet's database and the bank.

Each check returns violations: dicts with a ``check`` name and what was seen (which key,
which operation). Nothing here changes anything.

- ``same_answer``: every key's definite answers (retries and probes) agree;
- ``acknowledged_exists``: every ``2xx`` names a row that exists, once, with its amount;
- ``no_extra_operation``: per actor and kind, rows with an effect beyond the acknowledged
  ones are at most the keys that never got an answer (else: a retry made a second one);
- ``refusal_left_nothing``: a definite refusal never comes with a row with an effect;
- ``no_negative_balance``: wallets and merchants, posted and available;
- ``bank_matches_wallet``: each succeeded bank debit/credit of the run is a succeeded top-up
  or withdrawal of the same amount, and the other way round; none left pending;
- ``money_conserved``: what is inside (wallets, merchants, fees) equals the bank's debits
  minus its credits, and the test cards moved by exactly that;
- ``5xx_outside_fault``: a ``5xx`` whose attempt did not overlap a fault window.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Final

import asyncpg
import httpx

from bench.chaos.clients import MONEY_KINDS, Operation, _retryable
from bench.chaos.cluster import FaultLog

# Rows with an effect on money, by kind: (table, owner column, statuses with an effect).
EFFECT: Final = {
    "transfer": ("transfers", "payer_user_id", None),
    "payment": ("payments", "user_id", None),
    "refund": ("refunds", "merchant_id", None),
    "topup": ("topups", "user_id", ("pending", "succeeded")),
    "withdrawal": ("withdrawals", "user_id", ("processing", "pending", "succeeded")),
}


@dataclass
class Facts:
    """What the checks read: rows by kind, user ids by phone, merchant ids by name, ..."""

    rows: dict[str, dict[str, dict[str, Any]]]
    user_ids: dict[str, str]
    merchant_ids: dict[str, str]
    accounts: list[dict[str, Any]]
    bank_rows: list[dict[str, str]]
    cards_before: dict[str, int]
    cards_after: dict[str, int]


async def read_facts(
    dsn: str,
    *,
    bank_url: str,
    bank_key: str,
    days: list[str],
    merchant_ids: dict[str, str],
    cards_before: dict[str, int],
) -> Facts:
    connection = await asyncpg.connect(dsn)
    try:
        rows: dict[str, dict[str, dict[str, Any]]] = {}
        for kind, (table, _owner, _effect) in EFFECT.items():
            found = await connection.fetch(f"SELECT * FROM {table}")
            rows[kind] = {str(r["id"]): dict(r) for r in found}
        users = await connection.fetch("SELECT id, phone FROM users")
        accounts = await connection.fetch(
            "SELECT a.code, a.kind, a.posted + COALESCE(SUM(d.amount), 0) AS balance, "
            "a.pending_debits, a.pending_credits FROM ledger_accounts a "
            "LEFT JOIN ledger_balance_deltas d ON d.account_id = a.id "
            "GROUP BY a.id, a.code, a.kind, a.posted, a.pending_debits, a.pending_credits"
        )
    finally:
        await connection.close()
    bank_rows: list[dict[str, str]] = []
    async with httpx.AsyncClient(base_url=bank_url, timeout=30) as bank:
        for day in days:
            answer = await bank.get(f"/settlement/{day}", headers={"X-Bank-Key": bank_key})
            answer.raise_for_status()
            bank_rows += list(csv.DictReader(io.StringIO(answer.text)))
        cards_after = await card_balances(bank)
    return Facts(
        rows=rows,
        user_ids={str(u["phone"]).removeprefix("+86"): str(u["id"]) for u in users},
        merchant_ids=merchant_ids,
        accounts=[dict(a) for a in accounts],
        bank_rows=bank_rows,
        cards_before=cards_before,
        cards_after=cards_after,
    )


async def card_balances(bank: httpx.AsyncClient) -> dict[str, int]:
    cards = (await bank.get("/test-cards")).json()
    return {str(c["number"]): int(c["balance_fen"]) for c in cards}


def _owner(op: Operation, facts: Facts) -> str | None:
    if op.kind == "refund":
        return facts.merchant_ids.get(op.actor)
    return facts.user_ids.get(op.actor)


def same_answer(operations: list[Operation]) -> list[dict[str, Any]]:
    found = []
    for op in operations:
        answers = {
            (a.status is not None and a.status < 400, a.code, a.resource_id)
            for a in op.attempts
            if a.status is not None and not _retryable(a)
        }
        if len(answers) > 1:
            found.append(
                {
                    "check": "same_answer",
                    "kind": op.kind,
                    "key": op.key,
                    "answers": sorted(str(a) for a in answers),
                }
            )
    return found


def acknowledged_exists(operations: list[Operation], facts: Facts) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for op in operations:
        if op.kind not in MONEY_KINDS or op.outcome != "ok":
            continue
        row = facts.rows[op.kind].get(op.resource_id or "")
        if row is None:
            found.append(
                {
                    "check": "acknowledged_exists",
                    "kind": op.kind,
                    "key": op.key,
                    "id": op.resource_id,
                    "seen": "no such row",
                }
            )
            continue
        owner_column = EFFECT[op.kind][1]
        if row["amount"] != op.amount_fen or row[owner_column] != _owner(op, facts):
            found.append(
                {
                    "check": "acknowledged_exists",
                    "kind": op.kind,
                    "key": op.key,
                    "id": op.resource_id,
                    "seen": "amount or owner differs",
                    "row_amount": row["amount"],
                    "asked_fen": op.amount_fen,
                }
            )
    return found


def _has_effect(kind: str, row: dict[str, Any]) -> bool:
    statuses = EFFECT[kind][2]
    return statuses is None or row["status"] in statuses


def no_extra_operation(operations: list[Operation], facts: Facts) -> list[dict[str, Any]]:
    """Rows with an effect beyond the acknowledged ones need a key that never got answered."""
    found: list[dict[str, Any]] = []
    by_actor: dict[tuple[str, str], list[Operation]] = defaultdict(list)
    for op in operations:
        owner = _owner(op, facts)
        if owner is not None:
            by_actor[(op.kind, owner)].append(op)
    for kind in MONEY_KINDS:
        owner_column = EFFECT[kind][1]
        effect_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in facts.rows[kind].values():
            if _has_effect(kind, row):
                effect_rows[str(row[owner_column])].append(row)
        for owner, rows in effect_rows.items():
            ops = by_actor.get((kind, owner), [])
            acknowledged = {op.resource_id for op in ops if op.outcome == "ok"}
            extra = [r for r in rows if r["id"] not in acknowledged]
            unanswered = [op for op in ops if op.outcome == "gave_up"]
            refused_after_retry = [
                op for op in ops if op.outcome == "refused" and len(op.attempts) > 1
            ]
            if len(extra) <= len(unanswered):
                continue
            suspects = [
                {
                    "key": op.key,
                    "amount_fen": op.amount_fen,
                    "outcome": op.outcome,
                    "acknowledged_id": op.resource_id,
                    "attempts": [a.as_dict() for a in op.attempts],
                }
                for op in ops
                if len(op.attempts) > 1 and any(r["amount"] == op.amount_fen for r in extra)
            ]
            found.append(
                {
                    "check": "no_extra_operation",
                    "kind": kind,
                    "owner": owner,
                    "rows_with_effect": len(rows),
                    "acknowledged": len(acknowledged),
                    "unanswered_keys": len(unanswered),
                    "refused_after_retry": len(refused_after_retry),
                    "extra_rows": [
                        {
                            "id": r["id"],
                            "amount": r["amount"],
                            "status": r.get("status"),
                            "created_at": str(r["created_at"]),
                        }
                        for r in extra
                    ],
                    "suspect_keys": suspects,
                }
            )
    return found


def refusal_left_nothing(operations: list[Operation], facts: Facts) -> list[dict[str, Any]]:
    """A refused key whose every attempt was refused cannot be behind an extra row: counted
    in :func:`no_extra_operation`; here, refusals that carried an id must not have an effect."""
    found = []
    for op in operations:
        if op.kind in MONEY_KINDS and op.outcome == "refused" and op.resource_id:
            row = facts.rows[op.kind].get(op.resource_id)
            if row is not None and _has_effect(op.kind, row):
                found.append(
                    {
                        "check": "refusal_left_nothing",
                        "kind": op.kind,
                        "key": op.key,
                        "id": op.resource_id,
                        "status": row.get("status"),
                    }
                )
    return found


def no_negative_balance(facts: Facts) -> list[dict[str, Any]]:
    found = []
    for account in facts.accounts:
        if account["kind"] not in ("wallet", "merchant"):
            continue
        available = account["balance"] - account["pending_debits"]
        if account["balance"] < 0 or available < 0:
            found.append(
                {
                    "check": "no_negative_balance",
                    "account": account["code"],
                    "balance": account["balance"],
                    "available": available,
                }
            )
    return found


def bank_matches_wallet(facts: Facts) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    found: list[dict[str, Any]] = []
    bank_ops: dict[str, dict[str, str]] = {}
    for line in facts.bank_rows:
        if line["status"] == "succeeded":
            bank_ops[line["request_id"]] = line
    wallet_ops: dict[str, tuple[str, dict[str, Any]]] = {}
    for topup in facts.rows["topup"].values():
        if topup["method"] == "card":
            wallet_ops[f"topup:{topup['id']}"] = ("debit", topup)
    for withdrawal in facts.rows["withdrawal"].values():
        wallet_ops[f"withdrawal:{withdrawal['id']}"] = ("credit", withdrawal)
    for request_id, (kind, row) in wallet_ops.items():
        at_bank = bank_ops.get(request_id)
        if row["status"] in ("pending", "processing"):
            found.append(
                {
                    "check": "bank_matches_wallet",
                    "request_id": request_id,
                    "seen": f"still {row['status']} after settling",
                    "bank": at_bank["status"] if at_bank else "no record",
                }
            )
        elif row["status"] == "succeeded" and at_bank is None:
            found.append(
                {
                    "check": "bank_matches_wallet",
                    "request_id": request_id,
                    "seen": "succeeded in the wallet, unknown to the bank",
                }
            )
        elif row["status"] != "succeeded" and at_bank is not None:
            found.append(
                {
                    "check": "bank_matches_wallet",
                    "request_id": request_id,
                    "seen": f"{row['status']} in the wallet, moved at the bank",
                    "amount_fen": at_bank["amount_fen"],
                }
            )
        elif at_bank is not None and (
            int(at_bank["amount_fen"]) != row["amount"] or at_bank["type"] != kind
        ):
            found.append(
                {
                    "check": "bank_matches_wallet",
                    "request_id": request_id,
                    "seen": "amount or direction differs",
                    "bank": at_bank,
                    "wallet_amount": row["amount"],
                }
            )
    for request_id, row in bank_ops.items():
        if request_id not in wallet_ops and request_id.split(":")[0] in ("topup", "withdrawal"):
            found.append(
                {
                    "check": "bank_matches_wallet",
                    "request_id": request_id,
                    "seen": "moved at the bank, no such wallet operation",
                    "bank": row,
                }
            )
    debits = sum(int(r["amount_fen"]) for r in bank_ops.values() if r["type"] == "debit")
    credited = sum(int(r["amount_fen"]) for r in bank_ops.values() if r["type"] == "credit")
    return found, {
        "bank_debits_fen": debits,
        "bank_credits_fen": credited,
        "bank_operations": Counter(r["type"] for r in bank_ops.values()),
    }


def money_conserved(
    facts: Facts, bank: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    inside = dict.fromkeys(("wallet", "merchant", "fee_revenue"), 0)
    other: dict[str, int] = {}
    for account in facts.accounts:
        if account["kind"] in inside:
            inside[account["kind"]] += int(account["balance"])
        elif account["balance"]:
            other[account["code"]] = int(account["balance"])
    net_in = bank["bank_debits_fen"] - bank["bank_credits_fen"]
    card_moves = sum(
        facts.cards_before[n] - facts.cards_after.get(n, 0) for n in facts.cards_before
    )
    figures = {
        "inside_fen": inside,
        "inside_total_fen": sum(inside.values()),
        "bank_net_in_fen": net_in,
        "test_cards_moved_fen": card_moves,
        "other_accounts_fen": other,
    }
    found = []
    if sum(inside.values()) != net_in:
        found.append(
            {"check": "money_conserved", "seen": "inside != bank debits - credits", **figures}
        )
    if card_moves != net_in:
        found.append(
            {
                "check": "money_conserved",
                "seen": "test card balances moved by another sum than the settlement file",
                **figures,
            }
        )
    return found, figures


def fivexx_outside_faults(
    operations: list[Operation], faults: FaultLog
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    found: list[dict[str, Any]] = []
    inside: Counter[str] = Counter()
    total = 0
    for op in operations:
        for attempt in op.attempts:
            if attempt.status is None or attempt.status < 500:
                continue
            total += 1
            window = faults.covering(attempt.start, attempt.end)
            if window is not None:
                inside[window.what] += 1
                continue
            found.append(
                {
                    "check": "5xx_outside_fault",
                    "kind": op.kind,
                    "key": op.key,
                    "status": attempt.status,
                    "code": attempt.code,
                    "at_s": round(attempt.start, 3),
                    "took_s": round(attempt.end - attempt.start, 3),
                }
            )
    return found, {"total": total, "during_faults": dict(inside), "outside_faults": len(found)}
