"""The support settings a ticket service needs, gathered once per use case.

Support's services read it from ``services.settings`` (:meth:`SupportPolicy.of`), so the
API, the chat, the mail listener and the CLI all apply the same process settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ewallet.config import Settings
from ewallet.models.support import TICKET_PRIORITIES
from ewallet.services import Services


@dataclass(frozen=True, slots=True)
class SupportPolicy:
    first_response: dict[str, timedelta]
    resolution: dict[str, timedelta]
    agent_max_open_tickets: int
    support_email: str
    attachment_max_bytes: int
    attachment_types: frozenset[str]
    # Per customer: tickets open at once, and new tickets in any 24 hours (support/quota.py).
    customer_open_tickets_max: int = 5
    customer_tickets_per_day: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> SupportPolicy:
        return cls(
            first_response=_per_priority(settings.support_sla_first_response_minutes, "first"),
            resolution=_per_priority(settings.support_sla_resolution_minutes, "resolution"),
            agent_max_open_tickets=settings.support_agent_max_open_tickets,
            support_email=settings.support_email.strip().lower(),
            attachment_max_bytes=settings.support_attachment_max_bytes,
            attachment_types=frozenset(
                kind.strip().lower()
                for kind in settings.support_attachment_types.split(",")
                if kind.strip()
            ),
            customer_open_tickets_max=settings.support_ticket_open_max,
            customer_tickets_per_day=settings.support_tickets_per_day,
        )

    @classmethod
    def of(cls, services: Services) -> SupportPolicy:
        """The policy of the running process's settings."""
        return cls.from_settings(services.settings)

    @property
    def mail_domain(self) -> str:
        """The domain of the support address: our Message-IDs end with it."""
        return self.support_email.rpartition("@")[2] or "ewallet.example"


def _per_priority(minutes: dict[str, int], name: str) -> dict[str, timedelta]:
    missing = [priority for priority in TICKET_PRIORITIES if priority not in minutes]
    if missing:
        raise ValueError(f"SLA {name} minutes lack the priorities {missing}")
    return {priority: timedelta(minutes=minutes[priority]) for priority in TICKET_PRIORITIES}
