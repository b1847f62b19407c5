"""Who may work the review queue: risk officers (admins pass)."""

from __future__ import annotations

from typing import Final

from ewallet.models.operations import StaffRole
from ewallet.staff.permissions import permission

RISK_REVIEWS: Final = permission("risk_reviews", StaffRole.RISK_OFFICER)
"""Staff routes of the review queue: list the held movements, read one with its decision's
explanation and the customer's recent activity, approve or reject it (docs/risk-review.md).
Risk officers only; admins pass. Support agents do not: releasing held money is a risk call."""
