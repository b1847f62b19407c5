"""the payment code's funding source (balance first, or a chosen card)

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-07

A payment-code charge above the balance may be paid by a bound card (docs/payment-code.md,
"Funding"). ``payment_code_funding`` keeps each user's choice: ``balance_first`` (the
balance, then the card for the rest) or ``card`` (all from the named card). No row means
``balance_first`` with the user's default card, so the upgrade writes nothing; the
downgrade drops the choices (charges then pay from the balance only, as before).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ewallet.kit.db.base

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ewallet.kit.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "payment_code_funding",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("card_id", sa.String(length=32), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "source IN ('balance_first', 'card')", name=op.f("ck_payment_code_funding_source_known")
        ),
        sa.CheckConstraint(
            "source = 'balance_first' OR card_id IS NOT NULL",
            name=op.f("ck_payment_code_funding_card_named"),
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_payment_code_funding_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_payment_code_funding_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_payment_code_funding")),
    )


def downgrade() -> None:
    op.drop_table("payment_code_funding")
