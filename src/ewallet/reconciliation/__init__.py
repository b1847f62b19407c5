"""Reconciliation: the wallet's top-ups and withdrawals against the bank's and PSPs' records.

``ewallet reconcile --date D`` and ``POST /v1/staff/reconciliation-runs`` compare one business
day (Beijing time, the bank's): every line of the bank's settlement file must match exactly
one wallet operation and its ledger transaction, every wallet operation the bank should have
seen must be in its records, and every PSP top-up must agree with the PSP. Items whose
outcome was unknown are settled on the way; what cannot be settled is reported as a mismatch
for a person to act on (docs/funding.md).
"""
