"""A copy of one's own personal data (PIPL art. 45): requested, built by the worker, downloaded."""
