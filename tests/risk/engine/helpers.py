"""Helpers of the risk engine tests: rule sets installed through the editing service, spends
admitted through the seam, the history the features read written straight into the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.models.risk import RuleAction, RuleMode, Verdict
from ewallet.models.spending import AuthStrength, SpendChannel
from ewallet.models.tables import devices, risk_decisions, risk_rule_hits, spend_records
from ewallet.risk.rules import service
from ewallet.risk.rules.views import RuleView
from ewallet.risk.spending import SpendingPolicy
from ewallet.spend.service import SpendChallengedError, SpendRequest, admit_spend
from tests.fixtures.accounts import Harness

STAFF = Actor("staff", "stf_test")


def rule(
    name: str,
    condition: str,
    action: RuleAction = RuleAction.BLOCK,
    *,
    events: tuple[str, ...] = ("transfer",),
    mode: RuleMode = RuleMode.LIVE,
    freeze_account: bool = False,
) -> RuleView:
    return RuleView(
        name=name,
        description=f"test rule {name}",
        events=events,
        condition=condition,
        action=action,
        mode=mode,
        freeze_account=freeze_account,
        position=0,
    )


async def install(harness: Harness, *rules: RuleView) -> int:
    """A rule set of exactly ``rules``, activated through the editing service; its version."""
    services = harness.services
    draft = await service.create_draft(services, STAFF, from_version=None, note="test")
    for old in draft.rules:
        await service.delete_rule(services, STAFF, version=draft.version, name=old.name)
    for new in rules:
        await service.save_rule(services, STAFF, version=draft.version, rule=new)
    await service.activate_rule_set(services, STAFF, version=draft.version)
    return draft.version


class _UndoError(Exception):
    """Raised to roll an admitted spend back (the tests only want the verdict)."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict


async def admit(
    harness: Harness,
    user_id: str,
    amount: str,
    *,
    channel: SpendChannel = SpendChannel.TRANSFER,
    counterparty: str | None = "usr_payee",
    device_id: str | None = None,
    keep: bool = False,
) -> str:
    """The verdict of the seam on one spend (``allow``, ``challenge``) or the code it was
    refused with (``risk_declined``, ``under_review``); rolled back unless ``keep``."""
    request = SpendRequest(
        user_id=user_id,
        amount=Money.parse(amount),
        channel=channel,
        auth=AuthStrength.PIN,
        reference=f"test:{new_id('ref')}",
        counterparty=counterparty,
        device_id=device_id,
    )
    policy = SpendingPolicy.from_settings(harness.services.settings)

    async def work(uow: UnitOfWork) -> Verdict:
        admission = await admit_spend(uow, request, now=harness.clock.now(), policy=policy)
        if not keep:
            raise _UndoError(admission.decision.verdict)
        return admission.decision.verdict

    try:
        return (await run_unit(harness.services.engine, work)).value
    except _UndoError as undone:
        return undone.verdict.value
    except SpendChallengedError:  # no step-up brought: rolled back, the decision stored
        return Verdict.CHALLENGE.value
    except DomainError as refused:
        return refused.code


async def add_spend(
    harness: Harness,
    user_id: str,
    amount: str,
    *,
    at: datetime,
    channel: SpendChannel = SpendChannel.TRANSFER,
    counterparty: str | None = None,
) -> None:
    async with harness.engine.begin() as conn:
        await conn.execute(
            insert(spend_records).values(
                id=new_id("spd"),
                user_id=user_id,
                reference=f"seed:{new_id('ref')}",
                channel=channel.value,
                auth="pin",
                amount=Money.parse(amount).minor,
                currency="CNY",
                created_at=at,
                counterparty=counterparty,
            )
        )


async def add_device(harness: Harness, user_id: str, *, first_seen: datetime) -> str:
    device_id = new_id("dev")
    async with harness.engine.begin() as conn:
        await conn.execute(
            insert(devices).values(
                id=device_id,
                user_id=user_id,
                device_key=new_id("key"),
                first_seen_at=first_seen,
                last_seen_at=first_seen,
            )
        )
    return device_id


async def add_audit(harness: Harness, clock: Clock, user_id: str, action: str) -> None:
    async with harness.engine.begin() as conn:
        await record_event(
            conn,
            clock=clock,
            actor=Actor("user", user_id),
            action=action,
            subject_type="user",
            subject_id=user_id,
        )


async def decisions(harness: Harness) -> list[Any]:
    async with harness.engine.connect() as conn:
        rows = await conn.execute(select(risk_decisions).order_by(risk_decisions.c.created_at))
        return list(rows)


async def hits(harness: Harness) -> list[Any]:
    async with harness.engine.connect() as conn:
        return list(await conn.execute(select(risk_rule_hits).order_by(risk_rule_hits.c.id)))
