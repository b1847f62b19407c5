"""The keyed fingerprint of a bank-card number: how a card is recognised without storing it.

Card binding stores it (``cards.fingerprint``, unique per user among live cards); a
password reset compares a number the owner types against it. Both compute it here, so the
two can never drift apart. ``number`` is the normalised form
(:func:`ewallet.kit.bank_cards.normalize_card_number`: ASCII digits only).
"""

from __future__ import annotations

from ewallet.security.crypto import KeyedDigest


def card_fingerprint(digest: KeyedDigest, number: str) -> str:
    return digest(f"card:{number}")
