"""Composing support mail: pure functions from a ticket's facts to an :class:`OutgoingEmail`.

Every mail to a customer with an account starts with their anti-phishing code (the same
prefix the SMS carries). Mail about a ticket is threaded three ways so any mail client and
our own listener find the ticket again: ``Message-ID``/``In-Reply-To``/``References``, the
token ``[#TKT-XXXXXXXX]`` in the subject and a ``Reply-To`` plus-address
(``service+TKT-XXXXXXXX@...``). Our automatic mail (acknowledgements) is marked
``Auto-Submitted: auto-replied`` (RFC 3834) so well-behaved responders never answer it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ewallet.kit.i18n import EN, ZH_CN, Locale, Text
from ewallet.models.identity import User
from ewallet.models.support import AuthorType
from ewallet.notify.templates import with_anti_phishing
from ewallet.support.policy import SupportPolicy

EMAIL_TOPIC: Final = "email.send"
SENDER_NAME: Final = "ewallet 客服"
# Older Message-IDs beyond this many are left out of References (clients cope; headers stay small).
MAX_REFERENCES: Final = 20

# ``{time}``: when the ticket was opened, Beijing time in words (kit/human_time.py).
ACKNOWLEDGEMENT: Final = Text(
    "您好，我们已于 {time} 收到您的来信，工单号 {reference}。客服会尽快回复；"
    "直接回复本邮件即可补充信息。",
    "Hello, we received your message on {time}; its ticket number is {reference}. An agent "
    "will reply soon; reply to this mail to add anything.",
)
_FOOTER: Final = Text(
    "—— 直接回复本邮件即可继续工单 {reference}。我们不会在邮件中索要密码或验证码。",
    "-- Reply to this mail to continue ticket {reference}. We never ask for passwords or codes "
    "by mail.",
)


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One ``email.send`` outbox payload; the transport builds the RFC 5322 mail from it."""

    to: str
    subject: str
    text: str
    message_id: str
    kind: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    auto_submitted: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "message_id": self.message_id,
            "kind": self.kind,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "reply_to": self.reply_to,
            "auto_submitted": self.auto_submitted,
        }


def ticket_token(reference: str) -> str:
    return f"[#{reference}]"


def plus_address(support_email: str, reference: str) -> str:
    local, _, domain = support_email.partition("@")
    return f"{local}+{reference}@{domain}"


def ticket_subject(subject: str, reference: str) -> str:
    """``Re: <subject> [#TKT-...]``, without piling up prefixes or tokens on each reply."""
    clean = subject.replace(ticket_token(reference), "").strip()
    while clean.lower().startswith(("re:", "回复:", "回复：", "aw:")):
        clean = clean.split(":", 1)[-1].split("：", 1)[-1].strip()
    return f"Re: {clean or reference} {ticket_token(reference)}"


def new_message_id(message_id: str, reference: str, policy: SupportPolicy) -> str:
    """Our Message-ID for a ticket message (stored without angle brackets)."""
    return f"{message_id}.{reference}@{policy.mail_domain}"


def threading(
    stored: list[tuple[str, str]],
) -> tuple[str | None, tuple[str, ...]]:
    """(In-Reply-To, References) from a ticket's (Message-ID, author type) pairs, oldest first.

    A reply answers the customer's latest mail if there is one, else the latest of any.
    """
    ids = [message_id for message_id, _ in stored]
    customer_ids = [message_id for message_id, author in stored if author == AuthorType.CUSTOMER]
    in_reply_to = customer_ids[-1] if customer_ids else (ids[-1] if ids else None)
    references = ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return in_reply_to, tuple(references)


def locale_of(user: User | None) -> Locale:
    return EN if user is not None and user.locale == EN else ZH_CN


def protected(text: str, user: User | None) -> str:
    """``text`` with the customer's anti-phishing prefix (when they set one)."""
    code = user.anti_phishing_code if user is not None else None
    return with_anti_phishing(text, code, locale_of(user))


def ticket_body(text: str, reference: str, user: User | None) -> str:
    """A ticket mail's text: the message, the reply-to-continue footer, the anti-phishing code."""
    footer = _FOOTER.get(locale_of(user)).format(reference=reference)
    return protected(f"{text}\n\n{footer}\n", user)
