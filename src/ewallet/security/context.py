"""Everything secret-derived, built once per process from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from ewallet.config import Settings
from ewallet.security.crypto import FieldCipher, KeyedDigest, derive_key
from ewallet.security.passwords import Hasher, PinHasher
from ewallet.security.tokens import TokenSigner


@dataclass(frozen=True, slots=True)
class SecurityContext:
    passwords: Hasher
    pins: PinHasher
    cipher: FieldCipher
    digest: KeyedDigest
    tokens: TokenSigner

    @classmethod
    def from_settings(cls, settings: Settings) -> SecurityContext:
        if settings.secret_key is None or settings.pin_pepper is None:
            raise RuntimeError("secrets missing: load settings with load_settings()")
        master = settings.secret_key.get_secret_value().encode()
        hasher = Hasher.from_settings(settings)
        return cls(
            passwords=hasher,
            pins=PinHasher(hasher, settings.pin_pepper.get_secret_value().encode()),
            cipher=FieldCipher(derive_key(master, "ewallet field encryption v1")),
            digest=KeyedDigest(derive_key(master, "ewallet keyed digest v1")),
            tokens=TokenSigner(derive_key(master, "ewallet access tokens v1")),
        )
