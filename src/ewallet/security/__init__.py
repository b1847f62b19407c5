"""Secrets at work: password and PIN hashing, field encryption, keyed digests, tokens, and
the rate limiter (whose store sees only keyed digests of whom it counts).

Imports only :mod:`ewallet.kit` and :mod:`ewallet.config` (the import contracts in
pyproject.toml).
"""
