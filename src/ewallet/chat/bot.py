"""The chat bot: answers from the help articles, and knows when to call a human.

It answers from the same search as ``GET /v1/help/articles``
(:func:`ewallet.help.service.search_articles`), so a staff edit to an article changes the
bot's answer too; this module only turns the results into words (pure, no I/O). An answer
is *confident* when the best article scores at least ``support_chat_bot_min_score`` (BM25;
a clear question such as "提现手续费" scores above 30, small talk below 2). The customer
asking for a human ("人工", "转人工", "agent", "human") always wins over the bot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from ewallet.help.views import Found
from ewallet.kit.i18n import EN, Locale

SUGGESTIONS: Final = 3
ARTICLE_PATH: Final = "/v1/help/articles/{id}"
_HUMAN_ZH: Final = ("人工", "真人")
_HUMAN_EN: Final = re.compile(r"\b(agent|human|person|operator)s?\b", re.IGNORECASE)


def wants_human(text: str) -> bool:
    """Did the customer ask for a person? ("转人工" contains "人工")."""
    return any(word in text for word in _HUMAN_ZH) or _HUMAN_EN.search(text) is not None


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: str
    title: str
    url: str
    score: float

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "url": self.url, "score": self.score}


@dataclass(frozen=True, slots=True)
class BotAnswer:
    text: str
    suggestions: tuple[Suggestion, ...]
    confident: bool


def answer(results: list[Found], *, locale: Locale, min_score: float) -> BotAnswer:
    """The bot's reply to the search ``results`` (best first, at most :data:`SUGGESTIONS`)."""
    suggestions = tuple(
        Suggestion(
            id=result.article.id,
            title=result.article.version(locale).title,
            url=ARTICLE_PATH.format(id=result.article.id),
            score=round(result.score or 0.0, 4),
        )
        for result in results[:SUGGESTIONS]
    )
    confident = bool(suggestions) and suggestions[0].score >= min_score
    return BotAnswer(_text(suggestions, confident=confident, locale=locale), suggestions, confident)


def _text(suggestions: tuple[Suggestion, ...], *, confident: bool, locale: Locale) -> str:
    lines = [f"{n}. {s.title} ({s.url})" for n, s in enumerate(suggestions, start=1)]
    if locale == EN:
        if not suggestions:
            head = "Sorry, I found no help article on that. Try other words, or type 'agent'."
        elif confident:
            head = "These articles should help:"
        else:
            head = "I am not sure; these articles might be related (type 'agent' for a person):"
    elif not suggestions:
        head = "抱歉，没有找到相关的帮助文章。您可以换个说法，或输入“人工”转人工客服。"
    elif confident:
        head = "为您找到以下帮助文章："
    else:
        head = "我不太确定，以下文章可能相关（输入“人工”可转人工客服）："
    return "\n".join([head, *lines])


def says(key: str, locale: Locale, **values: str | int) -> str:
    """The bot's and the system's fixed sentences."""
    zh, en = _SENTENCES[key]
    return (en if locale == EN else zh).format(**values)


_SENTENCES: Final[dict[str, tuple[str, str]]] = {
    "welcome": (
        "您好，我是智能客服。请描述您的问题；需要人工服务请输入“人工”。",
        "Hello, I am the help bot. Tell me what you need; type 'agent' for a person.",
    ),
    "glad": ("很高兴能帮到您。还有其他问题吗？", "Glad that helped. Anything else?"),
    "queued": (
        "正在为您转接人工客服，请稍候。",
        "Connecting you to an agent; please wait.",
    ),
    "no_agent": (
        "当前没有在线的人工客服。我们已为您创建工单 {reference}，客服会尽快在工单中回复您。",
        "No agent is online right now. We opened ticket {reference} for you; "
        "an agent will answer there soon.",
    ),
    "agent_joined": ("客服已接入，为您服务。", "An agent has joined the chat."),
    "handed_to_agent": (
        "已为您转接另一位客服，请稍候。",
        "You are being passed to another agent; one moment please.",
    ),
    "handed_to_queue": (
        "客服已将您转回排队，下一位空闲的客服将为您服务。",
        "The agent has put you back in line; the next free agent will take over.",
    ),
    "ended_customer": ("您已结束会话。", "You ended the chat."),
    "ended_agent": ("客服已结束会话，感谢您的咨询。", "The agent ended the chat. Thank you."),
    "transcript": (
        "会话记录已保存到工单 {reference}。",
        "The transcript is saved on ticket {reference}.",
    ),
    "kept_in_history": (
        "会话记录可在在线客服的历史会话中查看。如仍需帮助，可随时发起新会话。",
        "You can read this chat again in your chat history; start a new chat any time.",
    ),
}
