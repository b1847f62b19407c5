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


class LastAdminError(ConflictError):
    """Changing the role of the last active admin would leave no one to administer staff."""

    code = "last_admin"


class TotpResetPendingError(ConflictError):
    """A reset of this staff member's authenticator already waits for a second admin
    (``reset_id`` names it)."""

    code = "totp_reset_pending"


class TotpResetClosedError(ConflictError):
    """The reset was already approved or rejected, or has expired (``state`` says which)."""

    code = "totp_reset_closed"


class SecondAdminRequiredError(ForbiddenError):
    """The admin who asked for an authenticator reset cannot also approve it."""

    code = "second_admin_required"


class OwnTotpResetError(ForbiddenError):
    """Nobody decides on a reset of their own authenticator (approve or reject)."""

    code = "own_totp_reset"
