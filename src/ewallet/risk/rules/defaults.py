"""The rules a fresh database starts with (version 1, active); docs/risk-rules.md gives each
one's rationale. Thresholds are literals in the conditions, so compliance staff change them
by editing a draft, never the code."""

from __future__ import annotations

from typing import Final

from ewallet.models.risk import RuleAction, RuleMode
from ewallet.risk.rules.views import RuleView

OUTFLOWS: Final = ("payment", "payment_code", "static_qr", "transfer", "bill", "withdrawal")

DEFAULT_NOTE: Final = "The default rules (docs/risk-rules.md)"

DEFAULT_RULES: Final[tuple[RuleView, ...]] = (
    RuleView(
        name="new-device-large-transfer",
        description=(
            "A large transfer from a device the user has not used for a day yet: a stolen "
            "password used on the thief's phone. The owner passes a second factor easily."
        ),
        events=("transfer",),
        condition="is_new_device and amount >= 2000",
        action=RuleAction.CHALLENGE,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=10,
    ),
    RuleView(
        name="password-reset-new-payee",
        description=(
            "Money to someone never paid before, within a day of a login-password reset: "
            "the account-takeover pattern (reset through a hijacked SIM, then empty it)."
        ),
        events=("payment", "static_qr", "transfer", "bill"),
        condition="amount >= 1000 and is_new_payee and hours_since_password_reset < 24",
        action=RuleAction.REVIEW,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=20,
    ),
    RuleView(
        name="transfer-velocity",
        description=(
            "Many transfers in an hour: a script or a scammer on the phone hurrying the "
            "victim. Five are fine; the sixth asks for a second factor."
        ),
        events=("transfer",),
        condition="user_channel_count_1h >= 5",
        action=RuleAction.CHALLENGE,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=30,
    ),
    RuleView(
        name="rapid-in-out",
        description=(
            "Money in, then 80 % or more of it out to other people within 30 minutes: a "
            "mule account passing stolen funds on. A withdrawal to the user's own card is "
            "not sending money to others, and paying a shop is ordinary spending."
        ),
        events=("transfer",),
        condition="inflow_sum_30m >= 1000 and user_out_sum_30m + amount >= 0.8 * inflow_sum_30m",
        action=RuleAction.REVIEW,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=40,
    ),
    RuleView(
        name="card-testing",
        description=(
            "Many failed card top-ups in an hour: stolen card numbers being tried. Card "
            "top-ups do not pass the decision point yet, so the rule runs in shadow."
        ),
        events=("card_topup",),
        condition="failed_card_topups_1h >= 5 and amount < 100",
        action=RuleAction.BLOCK,
        mode=RuleMode.SHADOW,
        freeze_account=False,
        position=50,
    ),
    RuleView(
        name="structuring",
        description=(
            "Several counter deposits just under the large-cash threshold (50,000 yuan) "
            "within a week: splitting cash to stay below the report. A report candidate; "
            "counter deposits do not pass the decision point yet, so it runs in shadow."
        ),
        events=("counter_deposit",),
        condition=(
            "counter_deposits_near_threshold_7d >= 2 and amount >= 45000 and amount < 50000"
        ),
        action=RuleAction.REPORT,
        mode=RuleMode.SHADOW,
        freeze_account=False,
        position=60,
    ),
    RuleView(
        name="dormant-large-outflow",
        description=(
            "A large outflow from an account that has not spent for half a year: dormant "
            "accounts are bought and sold to launder money, or taken over unnoticed."
        ),
        events=OUTFLOWS,
        condition=(
            "amount >= 5000 and (days_since_last_spend >= 180 or "
            "(days_since_last_spend is null and account_age_days >= 180))"
        ),
        action=RuleAction.REVIEW,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=70,
    ),
)
