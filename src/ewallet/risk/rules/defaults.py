"""The rules a fresh database starts with (version 1, active); docs/risk-rules.md gives each
one's rationale. Thresholds are literals in the conditions, so compliance staff change them
by editing a draft, never the code. Five rules' conditions were tuned on the synthetic month
of ``make bench-risk-quality`` (docs/performance.md, "Quality"; the bench keeps the first
draft's for comparison): our own traffic, so the thresholds are our guesses checked against
our guesses. A database that has a rule set already keeps it: these are written only where
there is none (changing them here changes no running wallet; staff adopt a new default by
editing a draft)."""

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
            "Money to someone never paid before, within a day of a login-password reset, "
            "from 1,000 yuan, or of any amount from a device the user has not used for a "
            "day: the account-takeover pattern (reset through a hijacked SIM, then empty "
            "it), including a thief who keeps each transfer small. An owner who reset a "
            "forgotten password and pays someone new from their new phone is held too."
        ),
        events=("payment", "static_qr", "transfer", "bill"),
        condition=(
            "is_new_payee and hours_since_password_reset < 24 and (amount >= 1000 or is_new_device)"
        ),
        action=RuleAction.REVIEW,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=20,
    ),
    RuleView(
        name="transfer-velocity",
        description=(
            "Many transfers in an hour adding up to a large sum: a script or a scammer on "
            "the phone hurrying the victim. Five are fine; the sixth asks for a second "
            "factor once the hour's transfers with it reach 3,000 yuan, so a string of "
            "small red envelopes passes (and so would a thief keeping under 3,000)."
        ),
        events=("transfer",),
        condition="user_channel_count_1h >= 5 and user_channel_sum_1h + amount >= 3000",
        action=RuleAction.CHALLENGE,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=30,
    ),
    RuleView(
        name="rapid-in-out",
        description=(
            "Money in, then 80 % or more of it out within 30 minutes by a transfer to "
            "someone never paid before: a mule account passing stolen funds to the next "
            "layer. Topping up to pay family or a landlord paid before passes, and so does "
            "a mule paying the same next account again: the rule gives that up to stop "
            "holding ordinary people. A withdrawal to the user's own card and paying a shop "
            "are not transfers."
        ),
        events=("transfer",),
        condition=(
            "inflow_sum_30m >= 500 and is_new_payee and "
            "user_out_sum_30m + amount >= 0.8 * inflow_sum_30m"
        ),
        action=RuleAction.REVIEW,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=40,
    ),
    RuleView(
        name="card-testing",
        description=(
            "Three failed card top-ups in an hour, then another of any amount: stolen "
            "card numbers being tried, then the one that works emptied. Refused before the "
            "bank is asked; an owner whose bank declined three times waits an hour (or tops "
            "up another way)."
        ),
        events=("card_topup",),
        condition="failed_card_topups_1h >= 3",
        action=RuleAction.BLOCK,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=50,
    ),
    RuleView(
        name="structuring",
        description=(
            "A third counter deposit just under the large-cash threshold (50,000 yuan) "
            "within a week: splitting cash to stay below the report. The cash is taken and "
            "a suspicious-transaction report candidate recorded for compliance."
        ),
        events=("counter_deposit",),
        condition=(
            "counter_deposits_near_threshold_7d >= 2 and amount >= 45000 and amount < 50000"
        ),
        action=RuleAction.REPORT,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=60,
    ),
    RuleView(
        name="dormant-large-outflow",
        description=(
            "An outflow of 1,000 yuan or more from an account that has not spent for half "
            "a year: dormant accounts are bought and sold to launder money, or taken over "
            "unnoticed and emptied in amounts that do not look large."
        ),
        events=OUTFLOWS,
        condition=(
            "amount >= 1000 and (days_since_last_spend >= 180 or "
            "(days_since_last_spend is null and account_age_days >= 180))"
        ),
        action=RuleAction.REVIEW,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=70,
    ),
    RuleView(
        name="watchlist-payee",
        description=(
            "Money to a person whose verified real name matches the watch list (sanctions, "
            "politically exposed persons, our own investigations): held for a risk officer, "
            "who clears a namesake or confirms the listed person."
        ),
        events=("transfer",),
        condition="payee_on_watchlist",
        action=RuleAction.REVIEW,
        mode=RuleMode.LIVE,
        freeze_account=False,
        position=80,
    ),
    RuleView(
        name="sign-in-after-failures",
        description=(
            "The right password after three or more wrong ones in a row: a guesser who got "
            "there. Owners who forgot their password do the same, so it runs in shadow to "
            "count how often before it asks for a second factor."
        ),
        events=("sign_in",),
        condition="auth == 'password' and login_failures >= 3",
        action=RuleAction.CHALLENGE,
        mode=RuleMode.SHADOW,
        freeze_account=False,
        position=90,
    ),
)
