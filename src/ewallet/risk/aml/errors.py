"""Refusals of the AML report API (titles in :mod:`ewallet.kit.i18n`)."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, NotFoundError


class CandidateNotFoundError(NotFoundError):
    """No such report candidate."""


class CandidateAlreadyDecidedError(ConflictError):
    """The candidate was already marked reported or dismissed (one decision each)."""

    code = "aml_candidate_already_decided"
