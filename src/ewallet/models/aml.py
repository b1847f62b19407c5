"""Anti-money-laundering report records: large-value transaction reports and suspicious
transaction report candidates, and every export of a day's report (docs/aml-reports.md).

``aml_report_candidates`` holds one row per *candidate*: a customer (or merchant) whose
movements of one Asia/Shanghai business day reached a large-value threshold, or whom a risk
rule flagged as suspicious. A large-value row is unique per (category, subject, day), so
collecting a day again updates the row instead of adding one; a suspicious row is unique
per (rule, subject, day), so a rule that fires again on the same day adds its transaction
references to the first row. A risk officer marks a candidate ``reported`` or
``dismissed`` once (a second decision is refused). ``aml_exports`` records each export: the
day, the format, its row counts and the SHA-256 of the file -- never the content.

The collection reads each money feature's table by its ``created_at`` range; the indexes
on those columns that it needs (and nothing else uses) are declared here, beside the
reader, rather than in the features' models.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final, cast

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime
from ewallet.kit.db.types import JSONDocument
from ewallet.models.funding import Topup, Withdrawal
from ewallet.models.payments import Payment
from ewallet.models.transfers import Transfer


class AmlKind(StrEnum):
    LARGE_VALUE = "large_value"  # 大额交易
    SUSPICIOUS = "suspicious"  # 可疑交易 (a candidate until a risk officer decides)


class LargeValueCategory(StrEnum):
    """What a large-value candidate totals (docs/aml-reports.md, "What counts")."""

    CASH = "cash"  # counter cash deposits of a customer
    TRANSFER_OUT = "transfer_out"  # a person's money leaving the wallet to others
    TRANSFER_IN = "transfer_in"  # a person's money coming in from others
    ENTITY_TRANSFER = "entity_transfer"  # a merchant's settlement payouts


class SubjectType(StrEnum):
    USER = "user"
    MERCHANT = "merchant"


class CandidateState(StrEnum):
    OPEN = "open"
    REPORTED = "reported"
    DISMISSED = "dismissed"


class ExportFormat(StrEnum):
    CSV = "csv"
    XML = "xml"


class AmlReportCandidate(Base):
    __tablename__ = "aml_report_candidates"
    __table_args__ = (
        CheckConstraint("kind IN ('large_value', 'suspicious')", name="kind_known"),
        CheckConstraint("state IN ('open', 'reported', 'dismissed')", name="state_known"),
        CheckConstraint("subject_type IN ('user', 'merchant')", name="subject_type_known"),
        CheckConstraint("amount >= 0 AND transaction_count >= 0", name="amounts_valid"),
        CheckConstraint(
            "(kind = 'suspicious' AND rule_name IS NOT NULL)"
            " OR (kind = 'large_value' AND rule_name IS NULL)",
            name="rule_name_for_suspicious",
        ),
        # Collecting a day again finds the row (large-value), a rule firing again on the
        # same day adds to it (suspicious).
        Index(
            "uq_aml_report_candidates_large_value",
            "category",
            "subject_type",
            "subject_id",
            "business_day",
            unique=True,
            postgresql_where=text("kind = 'large_value'"),
            sqlite_where=text("kind = 'large_value'"),
        ),
        Index(
            "uq_aml_report_candidates_suspicious",
            "rule_name",
            "subject_type",
            "subject_id",
            "business_day",
            unique=True,
            postgresql_where=text("kind = 'suspicious'"),
            sqlite_where=text("kind = 'suspicious'"),
        ),
        Index("ix_aml_report_candidates_business_day", "business_day", "kind"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    # LargeValueCategory for large-value rows; the rule's own category for suspicious ones
    # (``structuring``, ...).
    category: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[str] = mapped_column(String(32))
    business_day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, Beijing time
    # The day's total of the category (large-value), or what the rule saw (suspicious).
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    transaction_count: Mapped[int] = mapped_column(Integer)
    # Opaque references of the movements: ``transfer:<id>``, ``counter_deposit:<id>``, ...
    transaction_refs: Mapped[list[str]] = mapped_column(JSONDocument)
    reason: Mapped[str] = mapped_column(String(200))
    rule_name: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500))


class AmlExport(Base):
    """One export of a day's report: what was handed out, by whom, and its digest."""

    __tablename__ = "aml_exports"
    __table_args__ = (
        CheckConstraint("format IN ('csv', 'xml')", name="format_known"),
        Index("ix_aml_exports_business_day", "business_day"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    business_day: Mapped[str] = mapped_column(String(10))
    format: Mapped[str] = mapped_column(String(3))
    large_value_count: Mapped[int] = mapped_column(Integer)
    suspicious_count: Mapped[int] = mapped_column(Integer)
    transaction_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    exported_by: Mapped[str] = mapped_column(String(40))  # "staff:<id>" or "system:cli"
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _created_at_index(model: type[Base]) -> Index:
    table = cast(Table, model.__table__)
    return Index(f"ix_{table.name}_created_at", table.c.created_at)


# The day scans of the collection (one Beijing day by created_at, every customer at once);
# the features' own indexes lead with the customer and cannot serve them.
COLLECTION_INDEXES: Final = tuple(
    _created_at_index(model) for model in (Transfer, Payment, Withdrawal, Topup)
)
