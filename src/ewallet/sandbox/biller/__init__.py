"""The sandbox biller: a bill-payment aggregator test double with its own storage.

``create_biller_app(config)`` builds it; docs/bills.md lists its test accounts and API.
The wallet talks to it only over HTTP, through :mod:`ewallet.integrations.biller`.
"""

from ewallet.sandbox.biller.accounts import Behaviour, documented_accounts
from ewallet.sandbox.biller.app import (
    SandboxBiller,
    SandboxBillerConfig,
    create_biller_app,
    sandbox_biller_of,
)

__all__ = [
    "Behaviour",
    "SandboxBiller",
    "SandboxBillerConfig",
    "create_biller_app",
    "documented_accounts",
    "sandbox_biller_of",
]
