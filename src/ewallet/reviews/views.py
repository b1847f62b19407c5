"""What the review queue's callers read: a page of reviews, one review with its decision's
explanation and the customer's recent activity (the staff API and the console alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.history.views import HistoryEntry
from ewallet.risk.review.views import ReviewView
from ewallet.risk.rules.views import DecisionView

__all__ = ["RecentActivity", "ReviewDetail", "ReviewPage", "ReviewView"]


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """Reviews in queue order (open ones oldest-due first, decided ones newest decided
    first); ``as_of`` is the moment ages and ``overdue`` are computed against."""

    items: list[ReviewView]
    next_cursor: str | None
    as_of: datetime


@dataclass(frozen=True, slots=True)
class RecentActivity:
    """The customer's latest movements (their history, pending holds included) and risk
    decisions, newest first, at most :data:`ewallet.reviews.service.RECENT` of each."""

    transactions: list[HistoryEntry]
    decisions: list[DecisionView]


@dataclass(frozen=True, slots=True)
class ReviewDetail:
    review: ReviewView
    decision: DecisionView  # the explanation: features read, rules fired and their values
    recent: RecentActivity
    as_of: datetime
