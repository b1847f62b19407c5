"""Real-name verification: the owner's name and Chinese resident ID number raise the tier.

PBoC account classes (DESIGN.md, "Risk and limits"): class I is phone only, class II adds a
verified real name, class III adds a bound bank card. Only format rules are checked
(:mod:`ewallet.identity.realname.rules`) -- the ID's GB 11643 check digit, a real birth
date, a real province code -- because an online check against the issuing authority is an
adapter of its own (not built yet).

The name and the number are stored encrypted (context ``real_name:<user>`` and
``id_number:<user>``), shown masked, and the number is looked up by keyed digest.
"""

from __future__ import annotations

from ewallet.audit.service import Actor, record_event
from ewallet.identity import repository as users_repository
from ewallet.identity.errors import (
    AgeNotEligibleError,
    IdentityAlreadyVerifiedError,
    IdNumberInUseError,
)
from ewallet.identity.guards import locked_user
from ewallet.identity.realname import repository as repo
from ewallet.identity.realname import screening
from ewallet.identity.realname.rules import (
    CHINA_TIME,
    CLASS_NAMES,
    MIN_AGE,
    age_on,
    id_number_digest,
    mask_real_name,
    normalize_real_name,
    parse_id_number,
    tier_for,
)
from ewallet.identity.realname.views import VerifiedIdentity
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.services import Services


async def recompute_tier(user: User, *, has_bound_card: bool) -> int:
    """Set ``user.tier`` from its verification state; call it in the unit that changed it.

    Card binding and unbinding call this with whether an active card remains bound
    (``has_bound_card``), inside the same unit of work, on the row they locked; real-name
    verification passes whether one was bound before it.
    """
    user.tier = tier_for(
        identity_verified=user.identity_verified_at is not None, has_bound_card=has_bound_card
    )
    return user.tier


async def verify_identity(
    services: Services, *, user_id: str, real_name: str, id_number: str, actor: Actor
) -> VerifiedIdentity:
    """``POST /v1/me/identity``: record the owner's real name and ID number and raise the
    tier (I → II, or III when a card is bound already); the owner is told, the event audited.

    Refusals, in order: ``invalid_real_name``; ``invalid_id_number``; ``age_not_eligible``;
    ``identity_already_verified``; ``id_number_in_use``. Locks: an advisory lock on the ID
    number's digest (PostgreSQL), then the user's row ``FOR NO KEY UPDATE``.
    """
    clock, security = services.clock, services.security
    now = clock.now()
    name = normalize_real_name(real_name)
    number = parse_id_number(id_number, today=now.astimezone(CHINA_TIME).date())
    if age_on(number.birth_date, now.astimezone(CHINA_TIME).date()) < MIN_AGE:
        raise AgeNotEligibleError(f"real-name verification needs an owner aged {MIN_AGE}+")
    number_digest = id_number_digest(security.digest, number.value)

    async def work(uow: UnitOfWork) -> VerifiedIdentity:
        conn = await uow.connection()
        await repo.serialize_id_number(conn, number_digest)
        user = await locked_user(uow, user_id)
        if user.identity_verified_at is not None:
            raise IdentityAlreadyVerifiedError("this account's identity is already verified")
        if await repo.id_number_taken(conn, number_digest=number_digest, user_id=user_id):
            raise IdNumberInUseError("the ID number belongs to another account")
        masked_name = mask_real_name(name)
        user.real_name_encrypted = security.cipher.encrypt(name, context=f"real_name:{user_id}")
        user.real_name_masked = masked_name
        user.id_number_encrypted = security.cipher.encrypt(
            number.value, context=f"id_number:{user_id}"
        )
        user.id_number_masked = number.masked
        user.id_number_digest = number_digest
        user.identity_verified_at = now
        user.updated_at = now
        # A card bound before the identity was verified lifts the account straight to
        # class III; binding takes the same user row lock first, so this cannot go stale.
        bound = await users_repository.has_active_card(conn, user_id)
        tier = await recompute_tier(user, has_bound_card=bound)
        await notify_user(
            uow.session,
            clock=clock,
            user=user,
            kind="identity_verified",
            params={"tier": CLASS_NAMES[tier]},
        )
        # The registered screens (the app's: the watch list) before the audit event, as the
        # audit chain's head is the unit's last lock. They never refuse the verification.
        for screen in screening.registered():
            await screen(
                uow,
                services,
                user_id=user_id,
                real_name=name,
                birth_date=number.birth_date,
                id_number_digest=number_digest,
            )
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=actor,
            action="identity.verified",
            subject_type="user",
            subject_id=user_id,
            details={"tier": tier, "id_number": number.masked},
        )
        return VerifiedIdentity(masked_name, number.masked, tier, now)

    return await run_unit(services.engine, work)
