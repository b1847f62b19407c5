"""Sign-in's own refusal (the others are identity's, :mod:`ewallet.identity.errors`)."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class SignInDeclinedError(DomainError):
    """``risk_declined``: risk control refused the sign-in (never says which rule). The same
    code as a refused movement's (:class:`ewallet.risk.decisions.RiskDeclinedError`, which
    identity cannot import: it sits below risk)."""

    code = "risk_declined"
    status = 403
