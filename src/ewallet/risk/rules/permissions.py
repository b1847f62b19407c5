"""Who may read and edit the risk rules and read the decisions: risk officers (admins pass)."""

from __future__ import annotations

from typing import Final

from ewallet.models.operations import StaffRole
from ewallet.staff.permissions import permission

RISK_RULES: Final = permission("risk_rules", StaffRole.RISK_OFFICER)
