"""Sign-in passes the decision point once the password (or the SMS code) proved right:
``block`` opens no session and leaves the wrong-password counters as they were,
``challenge`` and ``review`` ask for the step-up a new device gets, ``allow`` changes
nothing; an ``allow`` no rule fired on is not stored and costs no statement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event, func, select

from ewallet.identity.signin import checks
from ewallet.identity.signin.checks import SignInAttempt, SignInVerdict
from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.identity import CodePurpose, User
from ewallet.models.risk import RuleAction, RuleMode
from ewallet.models.tables import notifications, risk_decisions, users
from ewallet.models.tables import sessions as auth_sessions
from ewallet.risk.decisions import check_sign_in
from ewallet.services import Services
from tests.fixtures.accounts import LOGIN_PASSWORD, Harness, TestUser, assert_problem

from .helpers import install, rule

DEVICE = "device-key-of-the-owner"


async def sign_in(
    harness: Harness, user: TestUser, *, password: str = LOGIN_PASSWORD, device: str = DEVICE
) -> httpx.Response:
    return await harness.client.post(
        "/v1/sessions",
        json={"phone": user.phone, "login_password": password, "device_id": device},
    )


async def owner_with_a_trusted_device(harness: Harness) -> TestUser:
    """A user whose first sign-in trusted ``DEVICE`` (an account's first device is)."""
    user = await harness.user()
    assert (await sign_in(harness, user)).status_code == 201
    return user


async def scalar(harness: Harness, query: Any) -> Any:
    async with harness.engine.connect() as conn:
        return await conn.scalar(query)


async def open_sessions(harness: Harness, user: TestUser) -> int:
    return int(
        await scalar(
            harness,
            select(func.count())
            .select_from(auth_sessions)
            .where(auth_sessions.c.user_id == user.id, auth_sessions.c.revoked_at.is_(None)),
        )
    )


async def failures(harness: Harness, user: TestUser) -> tuple[int, Any]:
    async with harness.engine.connect() as conn:
        row = (
            await conn.execute(
                select(users.c.login_failures, users.c.login_locked_until).where(
                    users.c.id == user.id
                )
            )
        ).one()
    return row.login_failures, row.login_locked_until


async def sign_in_decisions(harness: Harness) -> list[Any]:
    async with harness.engine.connect() as conn:
        query = select(risk_decisions).where(risk_decisions.c.event == "sign_in")
        return list((await conn.execute(query.order_by(risk_decisions.c.created_at))).all())


async def test_a_block_opens_no_session_and_leaves_the_password_counters_alone(
    harness: Harness,
) -> None:
    user = await owner_with_a_trusted_device(harness)
    for _ in range(2):
        assert_problem(await sign_in(harness, user, password="wrong"), 401, "invalid_credentials")
    assert await failures(harness, user) == (2, None)
    sessions = await open_sessions(harness, user)
    await install(
        harness,
        rule("no-sign-in", "login_failures >= 2", RuleAction.BLOCK, events=("sign_in",)),
    )
    body = assert_problem(await sign_in(harness, user), 403, "risk_declined")
    assert "rule" not in str(body).lower()
    assert await open_sessions(harness, user) == sessions
    assert await failures(harness, user) == (2, None)  # neither counted nor cleared
    [decision] = await sign_in_decisions(harness)
    assert (decision.verdict, decision.user_id, decision.amount) == ("block", user.id, None)
    assert decision.features == {"login_failures": 2}
    # The budget's last attempt turned the lock on; blocked, it is given back and lifted.
    for _ in range(2):
        assert_problem(await sign_in(harness, user, password="wrong"), 401, "invalid_credentials")
    assert await failures(harness, user) == (4, None)
    assert_problem(await sign_in(harness, user), 403, "risk_declined")
    assert await failures(harness, user) == (4, None)


async def test_a_block_on_an_sms_sign_in_uses_the_code_and_can_freeze(harness: Harness) -> None:
    user = await owner_with_a_trusted_device(harness)
    await install(
        harness,
        rule(
            "no-sms",
            "auth == 'sms'",
            RuleAction.BLOCK,
            events=("sign_in",),
            freeze_account=True,
        ),
    )
    code = await harness.sms_code(user.phone, CodePurpose.LOGIN)
    body = {"phone": user.phone, "verification_code": code, "device_id": DEVICE}
    assert_problem(await harness.client.post("/v1/sessions", json=body), 403, "risk_declined")
    again = await harness.client.post("/v1/sessions", json=body)
    assert again.json()["code"] == "verification_code_expired"  # used up
    status = await scalar(harness, select(users.c.status).where(users.c.id == user.id))
    assert status == "frozen"
    kinds = await scalar(
        harness,
        select(func.count())
        .select_from(notifications)
        .where(notifications.c.user_id == user.id, notifications.c.kind == "account_frozen"),
    )
    assert kinds == 1


async def test_a_challenge_or_a_review_asks_a_trusted_device_for_the_step_up(
    harness: Harness,
) -> None:
    user = await owner_with_a_trusted_device(harness)
    for action in (RuleAction.CHALLENGE, RuleAction.REVIEW):
        await install(harness, rule("ask", "hour_of_day >= 0", action, events=("sign_in",)))
        body = assert_problem(await sign_in(harness, user), 401, "step_up_required")
        assert body["challenge_id"]
    code = await harness.sms_code(user.phone, CodePurpose.STEP_UP)
    passed = await harness.client.post(
        "/v1/sessions/step-up",
        json={"challenge_id": body["challenge_id"], "verification_code": code},
    )
    assert passed.status_code == 201, passed.text
    # The device was trusted already: no "new device" notice for its owner.
    new_device = await scalar(
        harness,
        select(func.count())
        .select_from(notifications)
        .where(notifications.c.user_id == user.id, notifications.c.kind == "new_device_sign_in"),
    )
    assert new_device == 0
    assert [row.verdict for row in await sign_in_decisions(harness)] == ["challenge", "review"]


async def test_a_rule_reads_the_device_the_sign_in_comes_from(harness: Harness) -> None:
    user = await owner_with_a_trusted_device(harness)
    await install(
        harness, rule("new-phone", "is_new_device", RuleAction.BLOCK, events=("sign_in",))
    )
    harness.clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    assert_problem(await sign_in(harness, user), 403, "risk_declined")  # still new
    harness.clock.advance(timedelta(seconds=1))
    assert (await sign_in(harness, user)).status_code == 201  # a day old
    assert_problem(await sign_in(harness, user, device="another-phone"), 403, "risk_declined")
    assert [row.features for row in await sign_in_decisions(harness)] == [
        {"is_new_device": True},
        {"is_new_device": True},
    ]


class CountingCheck:
    """The app's risk check, counting the statements it runs on the sign-in's connection
    (the app's background work on other connections does not count)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def _seen(self, *args: Any) -> None:
        self.statements.append(str(args[2]))

    async def __call__(
        self, uow: UnitOfWork, services: Services, *, user: User, attempt: SignInAttempt
    ) -> SignInVerdict:
        connection = (await uow.connection()).sync_connection
        assert connection is not None
        event.listen(connection, "before_cursor_execute", self._seen)
        try:
            return await check_sign_in(uow, services, user=user, attempt=attempt)
        finally:
            event.remove(connection, "before_cursor_execute", self._seen)


@contextmanager
def counting() -> Iterator[CountingCheck]:
    check = CountingCheck()
    checks.register("risk", check)
    try:
        yield check
    finally:
        checks.register("risk", check_sign_in)


async def test_an_allowed_sign_in_is_not_stored_and_costs_no_statement(harness: Harness) -> None:
    user = await owner_with_a_trusted_device(harness)  # the default rules are read here
    with counting() as defaults:  # a shadow rule on free features: nothing to read
        assert (await sign_in(harness, user)).status_code == 201
    await install(harness)  # no rule at all
    assert (await sign_in(harness, user)).status_code == 201  # the new set is read here
    with counting() as none:
        assert (await sign_in(harness, user)).status_code == 201
    assert (defaults.statements, none.statements) == ([], [])
    assert await sign_in_decisions(harness) == []


async def test_the_default_sign_in_rule_only_counts_in_shadow(harness: Harness) -> None:
    user = await owner_with_a_trusted_device(harness)
    for _ in range(3):
        assert_problem(await sign_in(harness, user, password="wrong"), 401, "invalid_credentials")
    assert (await sign_in(harness, user)).status_code == 201  # shadow: never acts
    assert (await sign_in(harness, user)).status_code == 201  # counters cleared: no hit
    [decision] = await sign_in_decisions(harness)
    assert decision.verdict == "allow"
    [fired] = decision.fired
    assert (fired["name"], fired["mode"]) == ("sign-in-after-failures", RuleMode.SHADOW.value)
    assert fired["values"] == {"auth": "password", "login_failures": 3}
