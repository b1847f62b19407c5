"""Support refusals, each with its own ``code`` (titles in ewallet.kit.i18n)."""

from __future__ import annotations

from ewallet.kit.errors import DomainError


class TicketClosedError(DomainError):
    """A closed ticket takes no more public messages: the customer opens a new one."""

    code = "ticket_closed"
    status = 409


class TicketNotResolvedError(DomainError):
    """A rating is only asked for (and taken) after the ticket was resolved."""

    code = "ticket_not_resolved"
    status = 409


class TicketAlreadyRatedError(DomainError):
    code = "ticket_already_rated"
    status = 409


class TicketTransitionError(DomainError):
    """The requested status change is not one the ticket's state allows."""

    code = "ticket_transition_invalid"
    status = 409


class AgentNotAvailableError(DomainError):
    """Assigning to someone who is not an active support agent (or admin)."""

    code = "agent_not_available"
    status = 422


class SupportEmailCodeInvalidError(DomainError):
    code = "support_email_code_invalid"
    status = 400


class SupportEmailTakenError(DomainError):
    code = "support_email_taken"
    status = 409
