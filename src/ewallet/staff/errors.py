"""Staff refusals, each with a stable ``code`` (titles in :mod:`ewallet.kit.i18n`)."""

from __future__ import annotations

from ewallet.kit.errors import ConflictError, DomainError, ForbiddenError


class StaffDisabledError(DomainError):
    """Right credentials of a disabled staff account: said only after they were proven."""

    code = "staff_disabled"
    status = 403


class PasswordChangeRequiredError(ForbiddenError):
    """The one-time password from ``staff create`` must be replaced before anything else."""

    code = "password_change_required"


class StaffEmailTakenError(ConflictError):
    code = "staff_email_taken"
