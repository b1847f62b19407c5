"""Creating merchant people (staff and the CLI: any role; an owner: managers and
cashiers), listing them, and the owner's management of the team (disable, reset a
password)."""

from __future__ import annotations

import re
import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.merchants.people import repository as repo
from ewallet.merchants.people.errors import MerchantUserEmailTakenError, TeamRuleError
from ewallet.merchants.people.permissions import OWNER_MAY_CREATE, TEAM
from ewallet.merchants.people.service.audit_trail import audit
from ewallet.merchants.people.service.sessions import normalize_email
from ewallet.merchants.people.views import MerchantUserView, NewMerchantUser, PortalUser
from ewallet.models.merchant_users import MERCHANT_ROLES, MerchantRole, MerchantUserStatus
from ewallet.services import Services

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_TAKEN = "someone signs in with this email already"


def _valid_email(email: str) -> str:
    email = normalize_email(email)
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise ValidationFailedError("not an email address", field="email")
    return email


def _valid_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 80:
        raise ValidationFailedError("a name of 1-80 characters", field="name")
    return name


async def create_user(
    services: Services,
    actor: Actor,
    *,
    merchant_id: str,
    email: str,
    name: str,
    role: str,
) -> NewMerchantUser:
    """A new active merchant user with a one-time password (``merchant_user.created``
    audited under ``actor``: staff or the system). Any role.

    Refusals in order: ``422 validation_error`` (email, name, role); ``404 not_found`` (no
    such merchant); ``409 conflict`` (the email is taken, by anyone).
    """
    if role not in MERCHANT_ROLES:
        raise ValidationFailedError(f"role: one of {', '.join(MERCHANT_ROLES)}", field="role")
    return await _create(
        services, actor, merchant_id=merchant_id, email=email, name=name, role=role
    )


async def add_team_member(
    services: Services, owner: PortalUser, *, email: str, name: str, role: str
) -> NewMerchantUser:
    """An owner adds a manager or a cashier to their own merchant (one-time password
    shown once). ``403 forbidden`` for anyone but an owner, or for another role."""
    if not TEAM.allows(owner.role):
        raise TeamRuleError("only the owner manages the team")
    if role not in OWNER_MAY_CREATE:
        raise ValidationFailedError("role: manager or cashier", field="role")
    return await _create(
        services, owner.actor(), merchant_id=owner.merchant_id, email=email, name=name, role=role
    )


async def _create(
    services: Services, actor: Actor, *, merchant_id: str, email: str, name: str, role: str
) -> NewMerchantUser:
    email, name = _valid_email(email), _valid_name(name)
    password = secrets.token_urlsafe(12)
    password_hash = await services.security.passwords.hash(password)
    user_id = new_id("mu")

    async def work(uow: UnitOfWork) -> MerchantUserView:
        conn = await uow.connection()
        if await repo.merchant_name(conn, merchant_id) is None:
            raise NotFoundError("no such merchant")
        if await repo.user_by_email(conn, email) is not None:
            raise MerchantUserEmailTakenError(_TAKEN)
        await repo.insert_user(
            conn,
            id=user_id,
            merchant_id=merchant_id,
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            must_change_password=True,
            status=MerchantUserStatus.ACTIVE,
            failures=0,
            created_by=f"{actor.type}:{actor.id or ''}"[:40],
            created_at=services.clock.now(),
        )
        await audit(
            conn,
            services,
            actor,
            "merchant_user.created",
            user_id,
            {"merchant_id": merchant_id, "role": role},
        )
        row = await repo.user_by_id(conn, user_id)
        assert row is not None
        return row.view()

    try:
        view = await run_unit(services.engine, work)
    except IntegrityError:  # a concurrent creation with the same email won the race
        raise MerchantUserEmailTakenError(_TAKEN) from None
    return NewMerchantUser(view, password)


async def list_users(services: Services, *, merchant_id: str) -> list[MerchantUserView]:
    """The merchant's people, oldest first (``404`` for an unknown merchant)."""

    async def read(uow: UnitOfWork) -> list[MerchantUserView] | None:
        conn = await uow.connection()
        if await repo.merchant_name(conn, merchant_id) is None:
            return None
        return [row.view() for row in await repo.users_of(conn, merchant_id)]

    found = await run_unit(services.engine, read, read_only=True)
    if found is None:
        raise NotFoundError("no such merchant")
    return found


async def team(services: Services, owner: PortalUser) -> list[MerchantUserView]:
    """The owner's own merchant's people (``403`` for anyone else)."""
    if not TEAM.allows(owner.role):
        raise TeamRuleError("only the owner manages the team")
    return await list_users(services, merchant_id=owner.merchant_id)


async def _teammate(conn: AsyncConnection, owner: PortalUser, user_id: str) -> repo.MerchantUserRow:
    """A member of the owner's merchant, locked; another merchant's id is ``404``."""
    if not TEAM.allows(owner.role):
        raise TeamRuleError("only the owner manages the team")
    row = await repo.user_by_id(conn, user_id, for_update=True)
    if row is None or row.merchant_id != owner.merchant_id:
        raise NotFoundError("no such person in your team")
    if row.role == MerchantRole.OWNER:
        raise TeamRuleError("an owner is changed by the wallet's staff")
    return row


async def disable_member(services: Services, owner: PortalUser, *, user_id: str) -> None:
    """The owner disables a manager or cashier: their sessions end at once."""

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        row = await _teammate(conn, owner, user_id)
        now = services.clock.now()
        await repo.update_user(conn, row.id, status=MerchantUserStatus.DISABLED)
        await repo.revoke_sessions_of(conn, row.id, now)
        await audit(conn, services, owner.actor(), "merchant_user.disabled", row.id)

    await run_unit(services.engine, work)


async def reset_member_password(
    services: Services, owner: PortalUser, *, user_id: str
) -> NewMerchantUser:
    """The owner gives a manager or cashier a new one-time password (shown once); their
    sessions end and the failure lock is cleared."""
    password = secrets.token_urlsafe(12)
    password_hash = await services.security.passwords.hash(password)

    async def work(uow: UnitOfWork) -> MerchantUserView:
        conn = await uow.connection()
        row = await _teammate(conn, owner, user_id)
        now = services.clock.now()
        await repo.update_user(
            conn,
            row.id,
            password_hash=password_hash,
            must_change_password=True,
            failures=0,
            locked_until=None,
        )
        await repo.revoke_sessions_of(conn, row.id, now)
        await audit(conn, services, owner.actor(), "merchant_user.password_reset", row.id)
        fresh = await repo.user_by_id(conn, row.id)
        assert fresh is not None
        return fresh.view()

    view = await run_unit(services.engine, work)
    return NewMerchantUser(view, password)
