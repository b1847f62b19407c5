"""All SQL of the AML reports: the day's movements per category, candidates, exports.

Each large-value category is a UNION ALL of the feature tables that hold its movements
(docs/aml-reports.md, "What counts"), each branch restricted to one Beijing day by an
indexed ``created_at`` range (settlement payouts: by ``business_day``, then the time the
payout was paid) and to renminbi. Totals are summed per subject in the database, and only
the subjects at or above the threshold have their movements read. Functions take the
caller's connection and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.money import Money
from ewallet.models.aml import AmlKind, CandidateState, LargeValueCategory, SubjectType
from ewallet.models.counter import DepositStatus
from ewallet.models.funding import TopupMethod, TopupStatus, WithdrawalStatus
from ewallet.models.settlement import PartyKind, SettlementStatus
from ewallet.models.tables import (
    aml_exports,
    aml_report_candidates,
    cards,
    merchants,
    payments,
    settlements,
    topups,
    transfers,
    users,
    withdrawals,
)
from ewallet.models.tables import counter_deposits as deposits
from ewallet.models.transfers import TransferStatus
from ewallet.risk.aml.views import CandidateView, Movement
from ewallet.risk.limits import CHINA_TIME

CURRENCY: Final = "CNY"  # the thresholds are renminbi amounts
# A payout row is dated by the business day it settles; it is paid at most this many days
# later (settlement_delay_days is at most 30), so a day's payouts are among these rows.
PAYOUT_DAY_SPAN: Final = 31
IN_CHUNK: Final = 500
candidates = aml_report_candidates
payer = users.alias("payer")
payee = users.alias("payee")


def _text(value: str) -> ColumnElement[str]:
    return literal(value, String)


def _none() -> ColumnElement[str]:
    return cast(null(), String)


def _card_label(bank_name: Any, last_four: Any) -> ColumnElement[str]:
    return bank_name + _text(" ****") + last_four  # type: ignore[no-any-return]


def _branch(
    *,
    subject: Any,
    reference: ColumnElement[str],
    occurred_at: Any,
    amount: Any,
    direction: str,
    channel: ColumnElement[str],
    counterparty_type: ColumnElement[str],
    counterparty_id: Any,
    counterparty_name: Any,
) -> Select[Any]:
    """One branch of a category's UNION ALL, with the columns every branch shares."""
    return select(
        subject.label("subject_id"),
        reference.label("reference"),
        occurred_at.label("occurred_at"),
        amount.label("amount"),
        _text(direction).label("direction"),
        channel.label("channel"),
        counterparty_type.label("counterparty_type"),
        counterparty_id.label("counterparty_id"),
        counterparty_name.label("counterparty_name"),
    )


def _cash(start: datetime, end: datetime) -> list[Select[Any]]:
    return [
        _branch(
            subject=deposits.c.user_id,
            reference=_text("counter_deposit:") + deposits.c.id,
            occurred_at=deposits.c.created_at,
            amount=deposits.c.amount,
            direction="in",
            channel=_text("counter_cash"),
            counterparty_type=_text("branch"),
            counterparty_id=deposits.c.branch,
            counterparty_name=_none(),
        ).where(
            # ix_counter_deposits_status_created_at
            deposits.c.status == DepositStatus.COMPLETED,
            deposits.c.created_at >= start,
            deposits.c.created_at < end,
            deposits.c.currency == CURRENCY,
        )
    ]


def _transfers(start: datetime, end: datetime, *, outgoing: bool) -> Select[Any]:
    other = payee if outgoing else payer
    subject = transfers.c.payer_user_id if outgoing else transfers.c.payee_user_id
    other_id = transfers.c.payee_user_id if outgoing else transfers.c.payer_user_id
    return (
        _branch(
            subject=subject,
            reference=_text("transfer:") + transfers.c.id,
            occurred_at=transfers.c.created_at,
            amount=transfers.c.amount,
            direction="out" if outgoing else "in",
            channel=_text("wallet_transfer"),
            counterparty_type=_text("user"),
            counterparty_id=other.c.id,
            counterparty_name=other.c.real_name_masked,
        )
        .select_from(transfers.join(other, other.c.id == other_id))
        .where(
            transfers.c.created_at >= start,
            transfers.c.created_at < end,
            transfers.c.status == TransferStatus.SUCCEEDED,
            transfers.c.currency == CURRENCY,
        )
    )


def _transfer_out(start: datetime, end: datetime) -> list[Select[Any]]:
    withdrawn = (
        _branch(
            subject=withdrawals.c.user_id,
            reference=_text("withdrawal:") + withdrawals.c.id,
            occurred_at=withdrawals.c.created_at,
            amount=withdrawals.c.amount,
            direction="out",
            channel=_text("bank_card_withdrawal"),
            counterparty_type=_text("bank_card"),
            counterparty_id=cards.c.bank_code,
            counterparty_name=_card_label(cards.c.bank_name, cards.c.last_four),
        )
        .select_from(withdrawals.join(cards, cards.c.id == withdrawals.c.card_id))
        .where(
            withdrawals.c.created_at >= start,
            withdrawals.c.created_at < end,
            withdrawals.c.status == WithdrawalStatus.SUCCEEDED,
            withdrawals.c.currency == CURRENCY,
        )
    )
    paid = (
        _branch(
            subject=payments.c.user_id,
            reference=_text("payment:") + payments.c.id,
            occurred_at=payments.c.created_at,
            amount=payments.c.amount,
            direction="out",
            channel=_text("merchant_payment"),
            counterparty_type=_text("merchant"),
            counterparty_id=merchants.c.id,
            counterparty_name=merchants.c.name,
        )
        .select_from(payments.join(merchants, merchants.c.id == payments.c.merchant_id))
        .where(
            payments.c.created_at >= start,
            payments.c.created_at < end,
            payments.c.currency == CURRENCY,
        )
    )
    return [_transfers(start, end, outgoing=True), withdrawn, paid]


def _transfer_in(start: datetime, end: datetime) -> list[Select[Any]]:
    by_card = topups.c.method == TopupMethod.CARD
    topped_up = (
        _branch(
            subject=topups.c.user_id,
            reference=_text("topup:") + topups.c.id,
            occurred_at=topups.c.created_at,
            amount=topups.c.amount,
            direction="in",
            channel=topups.c.method + _text("_topup"),
            counterparty_type=case((by_card, _text("bank_card")), else_=_text("psp")),
            counterparty_id=case((by_card, cards.c.bank_code), else_=topups.c.method),
            counterparty_name=case(
                (by_card, _card_label(cards.c.bank_name, cards.c.last_four)),
                else_=topups.c.method,
            ),
        )
        .select_from(topups.outerjoin(cards, cards.c.id == topups.c.card_id))
        .where(
            topups.c.created_at >= start,
            topups.c.created_at < end,
            topups.c.status == TopupStatus.SUCCEEDED,
            # A counter deposit is cash (its own category), not a transfer.
            topups.c.method != TopupMethod.COUNTER,
            topups.c.currency == CURRENCY,
        )
    )
    return [_transfers(start, end, outgoing=False), topped_up]


def _entity_transfer(start: datetime, end: datetime) -> list[Select[Any]]:
    last_day = start.astimezone(CHINA_TIME).date()
    first_day = last_day - timedelta(days=PAYOUT_DAY_SPAN)
    account = func.coalesce(settlements.c.bank_code, _text("")) + _text(" ****")
    return [
        _branch(
            subject=settlements.c.party_id,
            reference=_text("settlement:") + settlements.c.id,
            occurred_at=settlements.c.finished_at,
            amount=settlements.c.amount,
            direction="out",
            channel=_text("settlement_payout"),
            counterparty_type=_text("bank_account"),
            counterparty_id=settlements.c.bank_code,
            counterparty_name=account + func.coalesce(settlements.c.account_last4, _text("")),
        ).where(
            # ix_settlements_business_day, then the day the payout was paid
            settlements.c.business_day >= first_day.isoformat(),
            settlements.c.business_day <= last_day.isoformat(),
            settlements.c.party_kind == PartyKind.MERCHANT,
            settlements.c.status == SettlementStatus.PAID,
            settlements.c.finished_at >= start,
            settlements.c.finished_at < end,
            settlements.c.currency == CURRENCY,
            settlements.c.amount > 0,
        )
    ]


SOURCES: Final = {
    LargeValueCategory.CASH: _cash,
    LargeValueCategory.TRANSFER_OUT: _transfer_out,
    LargeValueCategory.TRANSFER_IN: _transfer_in,
    LargeValueCategory.ENTITY_TRANSFER: _entity_transfer,
}
SUBJECT_TYPES: Final = {
    LargeValueCategory.CASH: SubjectType.USER,
    LargeValueCategory.TRANSFER_OUT: SubjectType.USER,
    LargeValueCategory.TRANSFER_IN: SubjectType.USER,
    LargeValueCategory.ENTITY_TRANSFER: SubjectType.MERCHANT,
}


@dataclass(frozen=True, slots=True)
class SubjectTotal:
    subject_id: str
    total: int
    count: int


async def totals_at_least(
    conn: AsyncConnection,
    category: LargeValueCategory,
    *,
    start: datetime,
    end: datetime,
    threshold: int,
) -> list[SubjectTotal]:
    """The subjects whose movements of the category in ``[start, end)`` sum to at least
    ``threshold`` minor units, with the sum and the number of movements."""
    day = union_all(*SOURCES[category](start, end)).subquery("day")
    total = func.sum(day.c.amount)
    statement = (
        select(day.c.subject_id, total.label("total"), func.count().label("n"))
        .group_by(day.c.subject_id)
        .having(total >= threshold)
        .order_by(day.c.subject_id)
    )
    return [
        SubjectTotal(row.subject_id, int(row.total), int(row.n))
        for row in await conn.execute(statement)
    ]


async def movements_of(
    conn: AsyncConnection,
    category: LargeValueCategory,
    *,
    subject_ids: Sequence[str],
    start: datetime,
    end: datetime,
) -> list[Movement]:
    """The movements of the category in ``[start, end)`` of these subjects, by time."""
    found: list[Movement] = []
    for offset in range(0, len(subject_ids), IN_CHUNK):
        chunk = subject_ids[offset : offset + IN_CHUNK]
        branches = [
            branch.where(branch.selected_columns.subject_id.in_(chunk))
            for branch in SOURCES[category](start, end)
        ]
        day = union_all(*branches).subquery("day")
        statement = select(day).order_by(day.c.occurred_at, day.c.reference)
        found.extend(
            Movement(
                reference=row.reference,
                subject_id=row.subject_id,
                occurred_at=row.occurred_at,
                amount=Money(int(row.amount), CURRENCY),
                direction=row.direction,
                channel=row.channel,
                counterparty_type=row.counterparty_type,
                counterparty_id=row.counterparty_id,
                counterparty_name=row.counterparty_name,
            )
            for row in await conn.execute(statement)
        )
    return found


# ------------------------------------------------------------------------------ candidates


def _dialect_insert(conn: AsyncConnection) -> Any:
    return sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert


async def candidates_of_day(
    conn: AsyncConnection, day: date, *, kind: AmlKind | None = None
) -> list[CandidateView]:
    statement = select(candidates).where(candidates.c.business_day == day.isoformat())
    if kind is not None:
        statement = statement.where(candidates.c.kind == kind)
    statement = statement.order_by(
        candidates.c.kind, candidates.c.category, candidates.c.subject_id, candidates.c.id
    )
    return [CandidateView.of(row) for row in await conn.execute(statement)]


async def candidate_by_id(conn: AsyncConnection, candidate_id: str) -> CandidateView | None:
    row = (await conn.execute(select(candidates).where(candidates.c.id == candidate_id))).first()
    return None if row is None else CandidateView.of(row)


async def insert_large_value(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Insert a large-value row unless the (category, subject, day) has one; True if new."""
    statement = (
        _dialect_insert(conn)(candidates)
        .values(**values, kind=AmlKind.LARGE_VALUE.value, rule_name=None)
        .on_conflict_do_nothing(
            index_elements=["category", "subject_type", "subject_id", "business_day"],
            index_where=candidates.c.kind == AmlKind.LARGE_VALUE.value,
        )
    )
    return bool((await conn.execute(statement)).rowcount)


async def update_facts(
    conn: AsyncConnection,
    candidate_id: str,
    *,
    amount: int,
    transaction_count: int,
    transaction_refs: list[str],
    reason: str | None = None,
    now: datetime,
) -> None:
    values: dict[str, Any] = {
        "amount": amount,
        "transaction_count": transaction_count,
        "transaction_refs": transaction_refs,
        "updated_at": now,
    }
    if reason is not None:
        values["reason"] = reason
    await conn.execute(update(candidates).where(candidates.c.id == candidate_id).values(values))


async def insert_suspicious(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Insert a suspicious row unless the (rule, subject, day) has one already."""
    await conn.execute(
        _dialect_insert(conn)(candidates)
        .values(**values, kind=AmlKind.SUSPICIOUS.value)
        .on_conflict_do_nothing(
            index_elements=["rule_name", "subject_type", "subject_id", "business_day"],
            index_where=candidates.c.kind == AmlKind.SUSPICIOUS.value,
        )
    )


async def suspicious_for_update(
    conn: AsyncConnection, *, rule_name: str, subject_type: str, subject_id: str, day: date
) -> CandidateView:
    """The (rule, subject, day)'s suspicious row, locked for the rest of the unit."""
    statement = (
        select(candidates)
        .where(
            candidates.c.kind == AmlKind.SUSPICIOUS,
            candidates.c.rule_name == rule_name,
            candidates.c.subject_type == subject_type,
            candidates.c.subject_id == subject_id,
            candidates.c.business_day == day.isoformat(),
        )
        .with_for_update()
    )
    return CandidateView.of((await conn.execute(statement)).one())


async def decide(
    conn: AsyncConnection,
    candidate_id: str,
    *,
    state: CandidateState,
    staff_id: str,
    note: str | None,
    now: datetime,
) -> bool:
    """Move an open candidate to ``state``; False if it is not open (or does not exist)."""
    result = await conn.execute(
        update(candidates)
        .where(candidates.c.id == candidate_id, candidates.c.state == CandidateState.OPEN)
        .values(state=state.value, decided_by=staff_id, decided_at=now, note=note, updated_at=now)
    )
    return bool(result.rowcount)


# ------------------------------------------------------------------------------ identities


@dataclass(frozen=True, slots=True)
class SealedIdentity:
    """A customer's identity as stored: encrypted (identity/realname)."""

    user_id: str
    real_name_encrypted: str | None
    id_number_encrypted: str | None


async def sealed_identities(
    conn: AsyncConnection, user_ids: Iterable[str]
) -> dict[str, SealedIdentity]:
    wanted = sorted(set(user_ids))
    found: dict[str, SealedIdentity] = {}
    for offset in range(0, len(wanted), IN_CHUNK):
        statement = select(
            users.c.id, users.c.real_name_encrypted, users.c.id_number_encrypted
        ).where(users.c.id.in_(wanted[offset : offset + IN_CHUNK]))
        for row in await conn.execute(statement):
            found[row.id] = SealedIdentity(row.id, row.real_name_encrypted, row.id_number_encrypted)
    return found


async def merchant_names(conn: AsyncConnection, merchant_ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(merchant_ids))
    if not wanted:
        return {}
    statement = select(merchants.c.id, merchants.c.name).where(merchants.c.id.in_(wanted))
    return {row.id: row.name for row in await conn.execute(statement)}


# ------------------------------------------------------------------------------ exports


async def insert_export(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(aml_exports.insert().values(**values))
