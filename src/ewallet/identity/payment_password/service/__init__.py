"""The 6-digit payment password (PIN): setting it, and checking it before money moves.

Which PINs an account may pick is :mod:`ewallet.identity.payment_password.policy`.

A PIN has only a million values, so what protects it is the attempt budget: 3 wrong
entries lock it for 3 hours (``payment_password_max_failures``/``_lock_hours``), kept in the
``users`` row so every process sees the same lock, and a successful reset unlocks it.

Counting is done by *reserving* a slot of the budget before the argon2 check, in a unit of
its own that commits: settled failures plus checks in flight never exceed the budget, so N
parallel guesses can never get more than the budget past the check (each reservation takes
the row lock in turn). A check that finds every slot held waits for one (up to
``payment_password_slot_wait_seconds``) instead of failing, so a user's parallel payments
with the right PIN all go through. If no slot frees up in time the server is busy, not the
user wrong: ``503 server_busy`` with ``Retry-After``, nothing reserved, nothing counted --
a PIN that was never compared is never answered as a guess. Settling a check frees its
slot: a correct PIN sets consecutive failures back to 0; a wrong one adds a failure, and the
one that spends the budget locks the PIN and tells the owner. A slot left by a process that
died mid-check expires after ``STALE_CHECK``.
argon2 runs outside any transaction, so a PIN check never holds a row lock -- or SQLite's
write lock -- for the tens of milliseconds it costs.

Money use cases (their services, never their endpoints) call
:func:`require_payment_password` before their unit of work; refusals come in this order:
``account_frozen`` → ``payment_password_not_set`` → ``payment_password_locked``
(``retry_after``) → ``payment_password_invalid`` (``remaining_attempts``). The money unit
then calls :func:`ensure_not_frozen`, so a freeze landing between the PIN check and the
money moving is still seen, under the row lock.
"""

from ewallet.identity.payment_password.service.checks import (
    STALE_CHECK,
    require_payment_password,
    verify_payment_password,
)
from ewallet.identity.payment_password.service.held import HeldPin, payment_password_held
from ewallet.identity.payment_password.service.setting import set_payment_password

__all__ = [
    "STALE_CHECK",
    "HeldPin",
    "payment_password_held",
    "require_payment_password",
    "set_payment_password",
    "verify_payment_password",
]
