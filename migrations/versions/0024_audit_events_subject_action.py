"""audit: events found by subject and action together (a customer's security events)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-10

The staff customer view lists a customer's security events (sign-ins, freezes, password
resets...) among every event about them, and every staff look at the customer is itself
an event about them: on ``subject_id`` alone, each view read all of those looks and threw
them away, so a customer's page got slower with each visit. ``(subject_id, action)`` finds
only the actions asked for; it replaces the ``subject_id`` index (its first column serves
every look-up by subject, and one index less is one write less per audit event, under the
chain head's lock). Built in the migration's transaction (a plain ``CREATE INDEX``), like
0022's: audit writes wait while it builds.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain indexes, not batch operations: on SQLite a batch could copy the table, and the
    # copy would lose the append-only triggers.
    op.create_index(
        "ix_audit_events_subject_id_action",
        "audit_events",
        ["subject_id", "action"],
        unique=False,
    )
    op.drop_index(op.f("ix_audit_events_subject_id"), table_name="audit_events")


def downgrade() -> None:
    op.create_index(
        op.f("ix_audit_events_subject_id"), "audit_events", ["subject_id"], unique=False
    )
    op.drop_index("ix_audit_events_subject_id_action", table_name="audit_events")
