"""The HTTP edge: problem documents, request context, idempotency, health and docs.

Feature routers live in their feature packages (``ewallet.<feature>.endpoints``) and are
included by :func:`ewallet.app.create_app`; this package holds what every endpoint shares.
"""
