"""The risk review queue (staff): movements held for review, approved or rejected once
(docs/risk-review.md)."""
