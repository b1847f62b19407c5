"""Real-name verification: the owner's name and Chinese resident ID number raise the tier.

PBoC account classes (DESIGN.md, "Risk and limits"): class I is phone only, class II adds a
verified real name, class III adds a bound bank card. Only format rules are checked here --
the ID's GB 11643 check digit, a real birth date, a real province code -- because an online
check against the issuing authority is an adapter of its own (not built yet).

Rules, decided and tested:

- ID numbers are the 18-character second-generation form: 17 digits and a check character
  (``0``-``9`` or ``X``). A lower-case ``x`` is accepted and stored as ``X`` (phone keyboards
  offer it; it names the same number, and the digest is of the upper-case form, so it
  cannot slip past the one-account-per-ID rule). The 15-digit first-generation form has no
  check digit and expired in 2013: refused. Surrounding whitespace is trimmed; spaces or
  dashes inside the number are refused, not guessed away.
- The birth date must exist, be 1900-01-01 or later and not be after today (China time).
- The owner must be at least 16 on the day of verification: from 16 a person who lives on
  their own income has full civil capacity (Civil Code art. 18); younger children need a
  guardian's consent, which is not a self-service flow.
- Names: 2-30 characters, either Chinese characters (with ``·`` between the parts of a
  transliterated name, as on ID cards of ethnic minorities) or Latin letters and single
  spaces; not both.

The name and the number are stored encrypted (context ``real_name:<user>`` and
``id_number:<user>``), shown masked, and the number is looked up by keyed digest.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Final

from sqlalchemy import exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.identity.errors import (
    AgeNotEligibleError,
    IdentityAlreadyVerifiedError,
    IdNumberInUseError,
    InvalidIdNumberError,
    InvalidRealNameError,
)
from ewallet.kit.clock import Clock
from ewallet.kit.db.locking import NO_KEY_UPDATE
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.models.identity import User
from ewallet.models.tables import cards, users
from ewallet.notify.service import notify_user
from ewallet.security.context import SecurityContext
from ewallet.security.crypto import FieldCipher, KeyedDigest

CHINA_TIME: Final = timezone(timedelta(hours=8), "CST")
MIN_AGE: Final = 16
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS: Final = "10X98765432"
# Province-level codes (GB/T 2260): the first two digits of every resident ID number.
PROVINCE_CODES: Final = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91}
)
_ID_SHAPE: Final = re.compile(r"[0-9]{17}[0-9X]")
_CJK: Final = r"\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef"
_CHINESE_NAME: Final = re.compile(rf"[{_CJK}]+(·[{_CJK}]+)*")
_LATIN_NAME: Final = re.compile(r"[A-Za-z]+( [A-Za-z]+)*")
NAME_MIN: Final = 2
NAME_MAX: Final = 30
CLASS_NAMES: Final = {1: "I", 2: "II", 3: "III"}


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A well-formed resident ID number and what it says about its holder."""

    value: str
    birth_date: date
    province: int

    @property
    def masked(self) -> str:
        """``110***********1234``: the province and the city, then the last four."""
        return self.value[:3] + "*" * 11 + self.value[-4:]


def check_character(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_id_number(raw: str, *, today: date) -> IdNumber:
    """The ID number in ``raw`` or ``invalid_id_number`` with the reason."""
    value = raw.strip().upper()
    if not _ID_SHAPE.fullmatch(value):
        raise InvalidIdNumberError("an ID number has 17 digits and a check digit or X")
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumberError("the check digit does not match")
    province = int(value[:2])
    if province not in PROVINCE_CODES:
        raise InvalidIdNumberError("the first two digits are not a province code")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumberError("the birth date does not exist") from None
    if born.year < 1900 or born > today:
        raise InvalidIdNumberError("the birth date is out of range")
    return IdNumber(value=value, birth_date=born, province=province)


def birth_date_of(value: str) -> date | None:
    """The birth date in a stored (already valid) number; None if it cannot be read."""
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def age_on(born: date, day: date) -> int:
    """Whole years between ``born`` and ``day`` (a 29 February birthday turns on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def normalize_real_name(raw: str) -> str:
    """The name as stored, or ``invalid_real_name``; see the module docstring for the rules."""
    name = unicodedata.normalize("NFKC", raw).strip()
    # Full-width and katakana middle dots are what Chinese keyboards type for "·".
    name = name.replace("・", "·").replace("•", "·")
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise InvalidRealNameError(f"a name has {NAME_MIN} to {NAME_MAX} characters")
    if not (_CHINESE_NAME.fullmatch(name) or _LATIN_NAME.fullmatch(name)):
        raise InvalidRealNameError("use Chinese characters (with ·) or Latin letters and spaces")
    return name


def mask_real_name(name: str) -> str:
    """张*三, *三, 阿**·****提 / J*** S****: first and last characters of Chinese names, the
    initials of Latin ones; the length stays visible so the owner recognises it."""
    if _LATIN_NAME.fullmatch(name):
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split(" "))
    if len(name) == 2:
        return "*" + name[1]
    return name[0] + "".join("·" if ch == "·" else "*" for ch in name[1:-1]) + name[-1]


def id_number_digest(digest: KeyedDigest, value: str) -> str:
    return digest(f"id-number:{value}")


def id_number_of(user: User, cipher: FieldCipher) -> str | None:
    """The verified ID number of ``user`` in clear, for checks that need it (PIN policy)."""
    if user.id_number_encrypted is None:
        return None
    return cipher.decrypt(user.id_number_encrypted, context=f"id_number:{user.id}")


def id_number_matches(user: User, digest: KeyedDigest, candidate: str) -> bool:
    """True if ``candidate`` is the user's verified ID number (a password-reset factor)."""
    if user.id_number_digest is None:
        return False
    value = candidate.strip().upper()
    return hmac.compare_digest(user.id_number_digest, id_number_digest(digest, value))


def tier_for(*, identity_verified: bool, has_bound_card: bool) -> int:
    """PBoC class: I phone only, II real name, III real name and a bound card."""
    if not identity_verified:
        return 1
    return 3 if has_bound_card else 2


async def recompute_tier(user: User, *, has_bound_card: bool) -> int:
    """Set ``user.tier`` from its verification state; call it in the unit that changed it.

    Card binding and unbinding call this with whether an active card remains bound
    (``has_bound_card``), inside the same unit of work, on the row they locked; real-name
    verification passes whether one was bound before it (:func:`has_active_card`).
    """
    user.tier = tier_for(
        identity_verified=user.identity_verified_at is not None, has_bound_card=has_bound_card
    )
    return user.tier


async def has_active_card(conn: AsyncConnection, user_id: str) -> bool:
    """Whether the user has a bound (active) card: a card bound before the identity was
    verified lifts the account straight to class III. Read here rather than through
    ``ewallet.cards``, which imports this module; binding takes the same user row lock
    first, so the answer cannot go stale before this unit commits."""
    query = select(exists().where(cards.c.user_id == user_id, cards.c.status == "active"))
    return bool(await conn.scalar(query))


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    real_name_masked: str
    id_number_masked: str
    tier: int
    verified_at: datetime


async def _serialize_id_number(conn: AsyncConnection, number_digest: str) -> None:
    """Let only one verification of a given ID number run at a time.

    The partial unique index on ``users.id_number_digest`` is the guarantee; this lock
    makes the loser of a race see the winner and answer ``id_number_in_use`` instead of
    failing on the index. PostgreSQL: a transaction-scoped advisory lock on the digest;
    SQLite: the write lock already serializes every write unit.
    """
    if conn.dialect.name == "postgresql":
        key = int(number_digest[:15], 16)  # 60 bits: fits a signed bigint
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def verify_identity(
    engine: AsyncEngine,
    *,
    clock: Clock,
    security: SecurityContext,
    user_id: str,
    real_name: str,
    id_number: str,
    actor: Actor,
) -> VerifiedIdentity:
    """Record the owner's real name and ID number and raise the tier (I → II)."""
    now = clock.now()
    name = normalize_real_name(real_name)
    number = parse_id_number(id_number, today=now.astimezone(CHINA_TIME).date())
    if age_on(number.birth_date, now.astimezone(CHINA_TIME).date()) < MIN_AGE:
        raise AgeNotEligibleError(f"real-name verification needs an owner aged {MIN_AGE}+")
    number_digest = id_number_digest(security.digest, number.value)

    async def work(uow: UnitOfWork) -> VerifiedIdentity:
        conn = await uow.connection()
        await _serialize_id_number(conn, number_digest)
        user = await uow.session.get(
            User, user_id, with_for_update=NO_KEY_UPDATE, populate_existing=True
        )
        if user is None:
            raise NotFoundError("no such user")
        if user.identity_verified_at is not None:
            raise IdentityAlreadyVerifiedError("this account's identity is already verified")
        taken = await conn.scalar(
            select(func.count())
            .select_from(users)
            .where(users.c.id_number_digest == number_digest, users.c.id != user_id)
        )
        if taken:
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
        tier = await recompute_tier(user, has_bound_card=await has_active_card(conn, user_id))
        await notify_user(
            uow.session,
            clock=clock,
            user=user,
            kind="identity_verified",
            params={"tier": CLASS_NAMES[tier]},
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

    return await run_unit(engine, work)
