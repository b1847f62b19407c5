"""Watch-list screening: names loaded from CSV, matched after normalisation.

See docs/risk-watchlist.md.
"""
