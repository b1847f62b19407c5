"""Reading an incoming mail defensively: whatever arrives, a :class:`ParsedMail` comes out.

Broken headers, unknown charsets and undecodable bytes are decoded with replacement rather
than raised; HTML is only used when there is no text part, and then reduced to text by
``nh3`` (script and style contents dropped, every tag removed) so nothing active is stored.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Final

import nh3

MESSAGE_ID: Final = re.compile(r"<([^<>\s]{1,250})>")
AUTO_PRECEDENCE: Final = frozenset({"bulk", "auto_reply", "list", "junk"})
BOUNCE_SENDERS: Final = ("mailer-daemon", "postmaster")
NO_SUBJECT: Final = "(no subject)"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(slots=True)
class ParsedMail:
    sender: str | None
    subject: str
    text: str
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    recipients: list[str]
    auto_reply: bool
    bounce: bool
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, the most direct first."""
        seen: dict[str, None] = {}
        for value in [*self.in_reply_to, *reversed(self.references)]:
            seen.setdefault(value, None)
        return list(seen)


def _header(message: Message, name: str, problems: list[str]) -> str:
    try:
        value = message.get(name)
    except Exception as error:  # a malformed header must not stop the mail
        problems.append(f"unreadable {name} header: {type(error).__name__}")
        return ""
    if value is None:
        return ""
    text = str(value)
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return payload.decode("utf-8", errors="replace")


def html_to_text(markup: str) -> str:
    cleaned = nh3.clean(markup, tags=set(), clean_content_tags={"script", "style"})
    text = html.unescape(cleaned)
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").lower()
    return "attachment" in disposition or (
        part.get_filename() is not None and not part.get_content_type().startswith("text/")
    )


def _body_and_attachments(message: Message, problems: list[str]) -> tuple[str, list[Attachment]]:
    plain: list[str] = []
    markup: list[str] = []
    attachments: list[Attachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        try:
            content_type = part.get_content_type()
            if _is_attachment(part):
                payload = part.get_payload(decode=True)
                filename = part.get_filename() or "attachment"
                attachments.append(
                    Attachment(
                        filename=str(filename)[:255],
                        content_type=content_type,
                        content=payload if isinstance(payload, bytes) else b"",
                    )
                )
            elif content_type == "text/plain":
                plain.append(_decode_part(part))
            elif content_type == "text/html":
                markup.append(_decode_part(part))
        except Exception as error:  # keep what can be read
            problems.append(f"unreadable part: {type(error).__name__}")
    if plain:
        text = "\n".join(plain)
    elif markup:
        text = html_to_text("\n".join(markup))
    else:
        text = ""
    return text.replace("\x00", "").strip(), attachments


def _ids(value: str) -> list[str]:
    return MESSAGE_ID.findall(value)


def _address(value: str) -> str | None:
    address = parseaddr(value)[1].strip().lower()
    return address if "@" in address else None


def parse_mail(raw: bytes, *, envelope_sender: str | None = None) -> ParsedMail:
    problems: list[str] = []
    message: Message = BytesParser(policy=email_policy.default).parsebytes(raw)
    sender = _address(_header(message, "From", problems)) or _address(envelope_sender or "")
    subject = " ".join(_header(message, "Subject", problems).split())[:200] or NO_SUBJECT
    message_ids = _ids(_header(message, "Message-ID", problems))
    auto_submitted = _header(message, "Auto-Submitted", problems).strip().lower()
    precedence = _header(message, "Precedence", problems).strip().lower()
    auto_reply = (
        (auto_submitted not in ("", "no"))
        or bool(_header(message, "X-Autoreply", problems))
        or bool(_header(message, "X-Autorespond", problems))
        or precedence in AUTO_PRECEDENCE
    )
    local_part = (sender or "").partition("@")[0]
    bounce = (
        message.get_content_type() == "multipart/report"
        or local_part in BOUNCE_SENDERS
        or envelope_sender in ("", "<>")
    )
    text, attachments = _body_and_attachments(message, problems)
    recipients = [
        address.lower()
        for _, address in getaddresses(
            [_header(message, "To", problems), _header(message, "Cc", problems)]
        )
        if "@" in address
    ]
    if isinstance(message, EmailMessage) and message.defects:
        problems.extend(type(defect).__name__ for defect in message.defects[:5])
    return ParsedMail(
        sender=sender,
        subject=subject,
        text=text,
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=_ids(_header(message, "In-Reply-To", problems)),
        references=_ids(_header(message, "References", problems)),
        recipients=recipients,
        auto_reply=auto_reply,
        bounce=bounce,
        attachments=attachments,
        problems=problems,
    )
