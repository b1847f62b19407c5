"""Help articles' Markdown as HTML: how the wallet shows them and the console previews them.

Articles are written by us and our staff, but what staff type is still escaped: every
character of the text is escaped first, then the few constructs our articles use become
tags (paragraphs, ``-``/``1.`` lists, ``|`` tables, ``#`` headings, bold, code, and links
to our own pages or to https). Nothing else -- no raw HTML -- gets through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from markupsafe import Markup, escape

_ORDERED: Final = re.compile(r"^(\d+)\.\s+(.*)$")
_BULLET: Final = re.compile(r"^[-*]\s+(.*)$")
_HEADING: Final = re.compile(r"^(#{1,6})\s+(.*)$")
_TABLE_RULE: Final = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_STRONG: Final = re.compile(r"\*\*(.+?)\*\*")
_CODE: Final = re.compile(r"`([^`]+)`")
_LINK: Final = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _inline(text: str) -> str:
    """Escaped text with ``**strong**``, ```code``` and ``[links](/local or https://)``."""
    html = str(escape(text))
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _STRONG.sub(r"<strong>\1</strong>", html)

    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        if url.startswith("/v1/help/articles/"):
            url = url.removeprefix("/v1")
        if (url.startswith("/") and not url.startswith("//")) or url.startswith("https://"):
            return f'<a href="{url}">{label}</a>'
        return label

    return _LINK.sub(link, html)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _blocks(lines: list[str]) -> Iterator[str]:
    """The HTML blocks of ``lines``: paragraphs, lists, tables, headings."""
    index = 0
    while index < len(lines):
        line = lines[index].rstrip()
        if not line.strip():
            index += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            level = min(len(heading.group(1)) + 1, 4)  # the article's title is the h1
            yield f"<h{level}>{_inline(heading.group(2))}</h{level}>"
            index += 1
            continue
        if line.startswith("|"):
            rows = []
            while index < len(lines) and lines[index].strip().startswith("|"):
                rows.append(lines[index].strip())
                index += 1
            yield _table(rows)
            continue
        kind = "ol" if _ORDERED.match(line) else "ul" if _BULLET.match(line) else None
        if kind is not None:
            items: list[str] = []
            pattern = _ORDERED if kind == "ol" else _BULLET
            while index < len(lines) and lines[index].strip():
                current = lines[index]
                match = pattern.match(current.strip())
                if match and not current.startswith((" ", "\t")):
                    items.append(match.group(match.lastindex or 1))
                elif items:
                    items[-1] += " " + current.strip()
                else:
                    break
                index += 1
            body = "".join(f"<li>{_inline(item)}</li>" for item in items)
            yield f"<{kind}>{body}</{kind}>"
            continue
        text: list[str] = []
        while index < len(lines) and lines[index].strip():
            current = lines[index].strip()
            if text and (
                current.startswith("|")
                or _BULLET.match(current)
                or _ORDERED.match(current)
                or _HEADING.match(current)
            ):
                break
            text.append(current)
            index += 1
        yield f"<p>{_inline(chr(10).join(text))}</p>"


def _table(rows: list[str]) -> str:
    if len(rows) >= 2 and _TABLE_RULE.match(rows[1]):
        head, body = rows[0], rows[2:]
        header = "".join(f'<th scope="col">{_inline(c)}</th>' for c in _cells(head))
        thead = f"<thead><tr>{header}</tr></thead>"
    else:
        thead, body = "", rows
    tbody = "".join(
        "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _cells(row)) + "</tr>" for row in body
    )
    return f'<table class="article-table">{thead}<tbody>{tbody}</tbody></table>'


def article_html(markdown: str) -> Markup:
    """An article's Markdown as HTML: every character of the text is escaped first, then
    paragraphs, ``-``/``1.`` lists, ``|`` tables, ``#`` headings, bold, code and links to
    our own pages (or https) become tags. Nothing else -- no raw HTML -- gets through."""
    lines = markdown.replace("\r\n", "\n").split("\n")
    return Markup("\n".join(_blocks(lines)))  # noqa: S704 -- built from escaped text only
