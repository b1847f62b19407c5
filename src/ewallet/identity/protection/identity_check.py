"""Is it really the owner? The real-name claim asked before an unfreeze or a reviewed phone change.

Pure: the owner's verified name and ID number (stored encrypted and as a keyed digest at
real-name verification, :mod:`ewallet.identity.realname.service`) against what is typed.
Formats are judged first (``invalid_real_name``, ``invalid_id_number``: a typo, not a
guess, so it costs no attempt); a well-formed claim then matches or not, and the caller
counts a mismatch. Which half was wrong is never said.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from ewallet.identity.realname.rules import (
    CHINA_TIME,
    id_number_matches,
    normalize_real_name,
    parse_id_number,
)
from ewallet.models.identity import User
from ewallet.security.context import SecurityContext


@dataclass(frozen=True, slots=True)
class IdentityClaim:
    """A well-formed name and ID number, as typed by someone who says they are the owner."""

    real_name: str
    id_number: str


def parse_claim(*, real_name: str, id_number: str, now: datetime) -> IdentityClaim:
    """The claim in its stored forms, or ``invalid_real_name`` / ``invalid_id_number``."""
    name = normalize_real_name(real_name)
    number = parse_id_number(id_number, today=now.astimezone(CHINA_TIME).date())
    return IdentityClaim(real_name=name, id_number=number.value)


def claim_matches(user: User, security: SecurityContext, claim: IdentityClaim) -> bool:
    """True if both the name and the ID number are the account's verified ones."""
    if user.identity_verified_at is None or user.real_name_encrypted is None:
        return False
    stored_name = security.cipher.decrypt(user.real_name_encrypted, context=f"real_name:{user.id}")
    name_ok = hmac.compare_digest(stored_name.encode(), claim.real_name.encode())
    number_ok = id_number_matches(user, security.digest, claim.id_number)
    return name_ok and number_ok
