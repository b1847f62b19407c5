"""argon2id hashing of login passwords, payment passwords (PINs) and staff passwords.

Hashing costs tens of milliseconds of CPU by design, so the async helpers run it in a
worker thread: one sign-in never stalls every other request on the event loop. Those
threads are a pool of their own, one per core: each hash takes ``argon2_memory_kib`` from
its thread's malloc arena and glibc keeps it there for the next one, so a worker holds
(threads x memory cost) for good -- asyncio's default pool of six threads kept 49 MB with
8 MiB hashes and 115 MB with the default 19 MiB (docs/performance.md, "Worker memory").
More threads than cores would not hash faster anyway. A PIN is
6 digits -- a million candidates -- so before argon2 it is keyed with a pepper kept
outside the database (``EWALLET_PIN_PEPPER``): a stolen table alone cannot be brute-forced.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ewallet.config import Settings

# Threads are started on first use, so importing this costs nothing.
_HASHING: Final = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="argon2")


class Hasher:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._argon2 = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Hasher:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )

    def hash_sync(self, secret: str) -> str:
        return self._argon2.hash(secret)

    def verify_sync(self, stored_hash: str, secret: str) -> bool:
        try:
            return self._argon2.verify(stored_hash, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._argon2.check_needs_rehash(stored_hash)

    async def hash(self, secret: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(_HASHING, self.hash_sync, secret)

    async def verify(self, stored_hash: str, secret: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            _HASHING, self.verify_sync, stored_hash, secret
        )


class PinHasher:
    """argon2id over HMAC-SHA256(pepper, PIN)."""

    def __init__(self, hasher: Hasher, pepper: bytes) -> None:
        self._hasher = hasher
        self._pepper = pepper

    def _peppered(self, pin: str) -> str:
        return hmac.new(self._pepper, pin.encode(), hashlib.sha256).hexdigest()

    async def hash(self, pin: str) -> str:
        return await self._hasher.hash(self._peppered(pin))

    async def verify(self, stored_hash: str, pin: str) -> bool:
        return await self._hasher.verify(stored_hash, self._peppered(pin))
