"""Merchant people through the staff API and the CLI: created by operators (any role) with a
one-time password shown once and stored hashed; listed per merchant; refusals leave
nothing behind; every creation audited."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ewallet.audit.service import Actor
from ewallet.cli.main import app as cli
from ewallet.identity.errors import TooManyAttemptsError
from ewallet.kit.errors import (
    DomainError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    ValidationFailedError,
)
from ewallet.merchants.people import service
from ewallet.merchants.people.views import PortalUser
from ewallet.models.tables import audit_events, merchant_users
from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop
from tests.fixtures.staff import bearer, make_staff, staff_token


async def token_for(shop: Shop, role: str) -> dict[str, str]:
    member = await make_staff(shop.engine, shop.security, shop.clock, role)
    return bearer(
        await staff_token(shop.engine, shop.security, shop.settings, shop.clock, member.id)
    )


async def people(shop: Shop) -> int:
    async with shop.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(merchant_users))).scalar_one()
        )


async def test_an_operator_adds_an_owner_and_lists_the_merchants_people(shop: Shop) -> None:
    merchant = (await shop.merchant("Harbour Tea")).merchant
    operator = await token_for(shop, "operator")
    url = f"/v1/staff/merchants/{merchant.id}/users"
    created = await shop.client.post(
        url,
        json={"email": " Owner@Harbour.Example ", "name": "Wang Fang", "role": "owner"},
        headers=operator,
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    user, password = body["user"], body["one_time_password"]
    assert (user["email"], user["role"], user["status"]) == (
        "owner@harbour.example",
        "owner",
        "active",
    )
    assert user["must_change_password"] is True
    assert user["totp_enrolled"] is False
    async with shop.engine.connect() as conn:
        row = (await conn.execute(select(merchant_users))).one()
        actions = (
            await conn.execute(
                select(audit_events.c.action, audit_events.c.actor_type).where(
                    audit_events.c.subject_id == user["id"]
                )
            )
        ).all()
    assert password not in str(tuple(row))  # hashed, never stored in clear
    assert ("merchant_user.created", "staff") in [tuple(a) for a in actions]
    listed = await shop.client.get(url, headers=operator)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [user["id"]]
    assert "one_time_password" not in listed.text


async def test_refusals_leave_nothing(shop: Shop) -> None:
    merchant = (await shop.merchant("Refusal Rice")).merchant
    operator = await token_for(shop, "operator")
    url = f"/v1/staff/merchants/{merchant.id}/users"
    first = {"email": "a@rice.example", "name": "A", "role": "cashier"}
    assert (await shop.client.post(url, json=first, headers=operator)).status_code == 201
    before = await people(shop)
    assert_problem(await shop.client.post(url, json=first, headers=operator), 409, "conflict")
    assert_problem(
        await shop.client.post(
            "/v1/staff/merchants/mch_nobody/users",
            json={**first, "email": "b@rice.example"},
            headers=operator,
        ),
        404,
        "not_found",
    )
    assert_problem(
        await shop.client.get("/v1/staff/merchants/mch_nobody/users", headers=operator),
        404,
        "not_found",
    )
    bad = await shop.client.post(
        url, json={"email": "not-an-email", "name": "C", "role": "cashier"}, headers=operator
    )
    assert bad.status_code == 422
    wrong_role = await shop.client.post(
        url, json={**first, "email": "d@rice.example", "role": "boss"}, headers=operator
    )
    assert wrong_role.status_code == 422
    support = await token_for(shop, "support_agent")
    forbidden = await shop.client.post(
        url, json={**first, "email": "e@rice.example"}, headers=support
    )
    assert_problem(forbidden, 403, "forbidden")
    assert (await shop.client.get(url, headers=support)).status_code == 403
    assert await people(shop) == before


@pytest.fixture
def cli_env(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads its settings from the environment: point it at the test's database."""
    settings = shop.settings
    assert settings.secret_key is not None
    assert settings.pin_pepper is not None
    monkeypatch.setenv("EWALLET_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EWALLET_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("EWALLET_SECRET_KEY", settings.secret_key.get_secret_value())
    monkeypatch.setenv("EWALLET_PIN_PEPPER", settings.pin_pepper.get_secret_value())


@pytest.mark.usefixtures("cli_env")
async def test_the_cli_prints_a_one_time_password(shop: Shop) -> None:
    merchant = (await shop.merchant("CLI Dumplings")).merchant
    args = [
        "merchant",
        "user",
        "create",
        "--merchant",
        merchant.id,
        "--email",
        "boss@dumplings.example",
        "--role",
        "owner",
    ]
    result = await asyncio.to_thread(CliRunner().invoke, cli, args)
    assert result.exit_code == 0, result.output
    assert "one-time password: " in result.output
    assert await people(shop) == 1
    again = await asyncio.to_thread(CliRunner().invoke, cli, args)
    assert again.exit_code == 2
    unknown = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["merchant", "user", "create", "--merchant", "mch_nobody", "--email", "x@y.example"],
    )
    assert unknown.exit_code == 2
    assert await people(shop) == 1


async def _portal_user(shop: Shop, merchant_id: str, role: str, email: str) -> PortalUser:
    created = await service.create_user(
        shop.services, Actor.system(), merchant_id=merchant_id, email=email, name=role, role=role
    )
    opened = await service.sign_in(
        shop.services, email=email, password=created.one_time_password, totp_code="", ip=None
    )
    return await service.portal_session(shop.services, session_id=opened.session_id, ip=None)


async def test_the_team_rules(shop: Shop) -> None:
    ours = (await shop.merchant("Rule Bakery")).merchant.id
    theirs = (await shop.merchant("Rival Bakery")).merchant.id
    owner = await _portal_user(shop, ours, "owner", "owner@rule.example")
    manager = await _portal_user(shop, ours, "manager", "manager@rule.example")
    rival = await _portal_user(shop, theirs, "cashier", "cashier@rival.example")
    before = await people(shop)
    with pytest.raises(ValidationFailedError):  # an owner makes managers and cashiers only
        await service.add_team_member(
            shop.services, owner, email="o2@rule.example", name="O", role="owner"
        )
    with pytest.raises(ForbiddenError):  # a manager manages no team
        await service.add_team_member(
            shop.services, manager, email="c@rule.example", name="C", role="cashier"
        )
    with pytest.raises(ForbiddenError):  # nobody disables the owner from the portal
        await service.disable_member(shop.services, owner, user_id=owner.user_id)
    with pytest.raises(NotFoundError):  # another merchant's person
        await service.disable_member(shop.services, owner, user_id=rival.user_id)
    with pytest.raises(NotFoundError):
        await service.reset_member_password(shop.services, owner, user_id=rival.user_id)
    assert await people(shop) == before
    # The rival's session is untouched; the manager's ends when the owner disables them.
    await service.portal_session(shop.services, session_id=rival.session_id, ip=None)
    await service.disable_member(shop.services, owner, user_id=manager.user_id)
    with pytest.raises(UnauthorizedError):
        await service.portal_session(shop.services, session_id=manager.session_id, ip=None)


async def test_a_disabled_merchant_ends_its_peoples_sessions(shop: Shop) -> None:
    merchant = (await shop.merchant("Closing Down")).merchant.id
    cashier = await _portal_user(shop, merchant, "cashier", "last@closing.example")
    operator = await token_for(shop, "operator")
    closed = await shop.client.patch(
        f"/v1/staff/merchants/{merchant}", json={"status": "disabled"}, headers=operator
    )
    assert closed.status_code == 200, closed.text
    with pytest.raises(UnauthorizedError):
        await service.portal_session(shop.services, session_id=cashier.session_id, ip=None)


async def test_an_unknown_email_locks_like_a_known_one(shop: Shop) -> None:
    merchant = (await shop.merchant("Lock Twins")).merchant.id
    created = await service.create_user(
        shop.services,
        Actor.system(),
        merchant_id=merchant,
        email="real@twins.example",
        name="Real",
        role="cashier",
    )
    threshold = shop.settings.login_lock_threshold
    for email in ("real@twins.example", "ghost@twins.example"):
        answers = []
        for _ in range(threshold + 1):
            try:
                await service.sign_in(
                    shop.services, email=email, password="wrong-password-1", totp_code="", ip=None
                )
            except DomainError as error:
                answers.append(error.code)
        assert answers == ["invalid_credentials"] * threshold + ["too_many_attempts"], email
    with pytest.raises(TooManyAttemptsError):  # the real one, even with its password
        await service.sign_in(
            shop.services,
            email="real@twins.example",
            password=created.one_time_password,
            totp_code="",
            ip=None,
        )
