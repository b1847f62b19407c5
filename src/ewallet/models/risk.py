"""Risk alerts: something a risk officer should look at, raised by the code that saw it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, BigIntPK, UTCDateTime
from ewallet.kit.db.types import JSONDocument


class RiskAlert(Base):
    """One alert: its kind, what it is about and the facts, written with the change that
    raised it (a rolled-back refusal raises nothing)."""

    __tablename__ = "risk_alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(120), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# --- Risk rules as data (ewallet.risk.rules, docs/risk-rules.md) -------------------------


class RuleSetState(StrEnum):
    """A rule set is edited as a draft, decides while active (one at a time), then retires."""

    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class RuleAction(StrEnum):
    """What a rule asks for when its condition holds (``block`` wins over ``review`` over
    ``challenge``; ``report`` records an AML candidate and never stops the movement)."""

    CHALLENGE = "challenge"
    REVIEW = "review"
    BLOCK = "block"
    REPORT = "report"


class RuleMode(StrEnum):
    """``live`` rules act; ``shadow`` rules are evaluated and counted, never acting."""

    LIVE = "live"
    SHADOW = "shadow"


class Verdict(StrEnum):
    """A decision's outcome (``risk_decisions.verdict``)."""

    ALLOW = "allow"
    CHALLENGE = "challenge"
    REVIEW = "review"
    BLOCK = "block"


class RiskRuleSet(Base):
    """One version of the rules; exactly one is ``active`` once the first decision ran."""

    __tablename__ = "risk_rule_sets"
    __table_args__ = (
        CheckConstraint("state IN ('draft', 'active', 'retired')", name="state_known"),
        Index(
            "uq_risk_rule_sets_active",
            "state",
            unique=True,
            postgresql_where=text("state = 'active'"),
            sqlite_where=text("state = 'active'"),
        ),
    )

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))  # "staff:<id>" or "system"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_by: Mapped[str | None] = mapped_column(String(64))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RiskRule(Base):
    """One rule of a set: when it applies (``events``), its condition, what it asks for."""

    __tablename__ = "risk_rules"
    __table_args__ = (
        CheckConstraint(
            "action IN ('challenge', 'review', 'block', 'report')", name="action_known"
        ),
        CheckConstraint("mode IN ('live', 'shadow')", name="mode_known"),
        CheckConstraint("action = 'block' OR NOT freeze_account", name="freeze_only_blocks"),
    )

    rule_set_version: Mapped[int] = mapped_column(
        Integer, ForeignKey("risk_rule_sets.version"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # a slug
    description: Mapped[str] = mapped_column(Text)  # what it catches and why
    events: Mapped[list[str]] = mapped_column(JSONDocument)  # SpendChannel values, ...
    condition: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(10))
    mode: Mapped[str] = mapped_column(String(8))
    freeze_account: Mapped[bool] = mapped_column(Boolean)  # block only: freeze for safety
    position: Mapped[int] = mapped_column(Integer)


class RiskDecision(Base):
    """One decision on one movement, kept with what it saw: the features the rules read,
    the rules that fired and a rule's failure, if one failed."""

    __tablename__ = "risk_decisions"
    __table_args__ = (
        CheckConstraint(
            "verdict IN ('allow', 'challenge', 'review', 'block')", name="verdict_known"
        ),
        Index("ix_risk_decisions_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    event: Mapped[str] = mapped_column(String(24))  # a SpendChannel value, "sign_in", ...
    reference: Mapped[str] = mapped_column(String(120))
    amount: Mapped[int | None] = mapped_column(BigInteger)  # minor units
    currency: Mapped[str | None] = mapped_column(String(3))
    verdict: Mapped[str] = mapped_column(String(10))
    rule_set_version: Mapped[int | None] = mapped_column(Integer)
    features: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    fired: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RiskRuleHit(Base):
    """A rule that fired in a decision, live or shadow, counted per rule and day."""

    __tablename__ = "risk_rule_hits"
    __table_args__ = (Index("ix_risk_rule_hits_day_rule_name", "day", "rule_name"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("risk_decisions.id"), index=True
    )
    rule_name: Mapped[str] = mapped_column(String(64))
    rule_set_version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(10))
    day: Mapped[date] = mapped_column(Date)  # Asia/Shanghai


# --- The review queue (ewallet.risk.review, ewallet.reviews, docs/risk-review.md) --------


class ReviewState(StrEnum):
    """A held movement waits ``open`` until a risk officer approves or rejects it, once."""

    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"


class RiskReview(Base):
    """One movement held for review: the decision that held it, the ledger hold that keeps
    its money, the SLA it is due by and, once decided, who decided what and why."""

    __tablename__ = "risk_reviews"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'approved', 'rejected')", name="state_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_risk_reviews_state_due_at", "state", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # rvw_…
    decision_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("risk_decisions.id"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(24))  # a SpendChannel value
    # The spend's reference (``transfer:trf_…``): one review per movement.
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    subject_id: Mapped[str] = mapped_column(String(120))  # the feature's id (``trf_…``)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    currency: Mapped[str] = mapped_column(String(3))
    # The ledger hold keeping the money until the decision posts or voids it.
    hold_id: Mapped[str] = mapped_column(String(32), ForeignKey("ledger_holds.id"))
    state: Mapped[str] = mapped_column(String(10))  # ReviewState
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # created_at + the SLA
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(32))  # the staff member's id
    note: Mapped[str | None] = mapped_column(String(500))
