"""Movements held for review: the ``risk_reviews`` rows the spend seam writes with a held
spend and the staff queue (:mod:`ewallet.reviews`) decides (docs/risk-review.md)."""
