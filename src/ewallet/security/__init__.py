"""Secrets at work: password and PIN hashing, field encryption, keyed digests, tokens."""
