"""bill payments funded by a bound card (快捷支付 for bills)

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07

A bill may now be paid from a bound card, or from the balance plus the card for the rest
(docs/bills.md, "Paying with a card"). ``bill_payments`` learns how it was funded:
``funding_source`` (null: the balance, as every existing row), the card (``card_id``), the
card top-up earmarked for it (``card_topup_id``, unique: one debit per payment), the card
part (``card_part``) and where the card debit stands (``card_status``: ``pending`` while
the bank is asked, ``debited``, ``declined``). While the card part is ``pending`` the
payment is ``pending`` with no ledger transaction yet (the balance part is on the hold
``hold_id``), so ``posted_unless_held`` allows that too; a payment whose card the bank
did not debit ends ``rejected`` (never reached the ledger nor the biller). Every new column
is nullable and empty for the existing rows: the upgrade rewrites nothing. A downgrade with
card-funded rows stored is refused by the old constraint rather than losing them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTED_UNLESS_HELD = (
    "(ledger_transaction_id IS NULL) = "
    "(status IN ('under_review', 'rejected') OR COALESCE(card_status, '') = 'pending')"
)
OLD_POSTED_UNLESS_HELD = (
    "(ledger_transaction_id IS NULL) = (status IN ('under_review', 'rejected'))"
)
FUNDING_KNOWN = (
    "(funding_source IS NULL AND card_topup_id IS NULL AND card_part IS NULL "
    "AND card_status IS NULL AND card_id IS NULL) OR "
    "(funding_source IN ('card', 'balance_and_card') AND card_topup_id IS NOT NULL "
    "AND card_id IS NOT NULL AND card_part > 0 AND card_part <= amount "
    "AND card_status IN ('pending', 'debited', 'declined'))"
)


def upgrade() -> None:
    with op.batch_alter_table("bill_payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("funding_source", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("card_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("card_topup_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("card_part", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("card_status", sa.String(length=12), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_bill_payments_card_id_cards"), "cards", ["card_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bill_payments_card_topup_id_topups"), "topups", ["card_topup_id"], ["id"]
        )
        batch_op.create_index("uq_bill_payments_card_topup_id", ["card_topup_id"], unique=True)
        batch_op.drop_constraint(batch_op.f("ck_bill_payments_posted_unless_held"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_bill_payments_posted_unless_held"), POSTED_UNLESS_HELD
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_bill_payments_funding_known"), FUNDING_KNOWN
        )


def downgrade() -> None:
    with op.batch_alter_table("bill_payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_bill_payments_funding_known"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_bill_payments_posted_unless_held"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_bill_payments_posted_unless_held"), OLD_POSTED_UNLESS_HELD
        )
        batch_op.drop_index("uq_bill_payments_card_topup_id")
        batch_op.drop_constraint(
            batch_op.f("fk_bill_payments_card_topup_id_topups"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_bill_payments_card_id_cards"), type_="foreignkey")
        batch_op.drop_column("card_status")
        batch_op.drop_column("card_part")
        batch_op.drop_column("card_topup_id")
        batch_op.drop_column("card_id")
        batch_op.drop_column("funding_source")
