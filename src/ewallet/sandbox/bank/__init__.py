"""The sandbox bank: a card-payment gateway test double with its own accounts and storage.

``create_bank_app(config)`` builds it; docs/sandbox.md lists its test cards, behaviours
and endpoints. The wallet talks to it only over HTTP, through
:mod:`ewallet.integrations.bank`, exactly as it would to a real bank.
"""

from ewallet.sandbox.bank.app import create_bank_app, sandbox_bank_of
from ewallet.sandbox.bank.bank import BANK_TIMEZONE, SandboxBank, SandboxBankConfig
from ewallet.sandbox.bank.cards import AMOUNT_BEHAVIOURS, TEST_CARDS, Behaviour, SandboxCard

__all__ = [
    "AMOUNT_BEHAVIOURS",
    "BANK_TIMEZONE",
    "TEST_CARDS",
    "Behaviour",
    "SandboxBank",
    "SandboxBankConfig",
    "SandboxCard",
    "create_bank_app",
    "sandbox_bank_of",
]
