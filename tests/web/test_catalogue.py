"""Every text of the web pages exists in both languages: each msgid a template or page
module uses has a Chinese translation (English is the msgid itself), and the catalogues
are well formed -- no fuzzy or empty entry, no msgid translated two ways in two files."""

from __future__ import annotations

from importlib import resources

from babel.messages.pofile import read_po
from tools.web_messages import untranslated, used_messages


def test_every_message_of_the_pages_has_a_chinese_translation() -> None:
    assert used_messages(), "the extractor found no message at all"
    missing = untranslated()
    assert not missing, "untranslated (run python -m tools.web_messages --po):\n" + "\n".join(
        f"  {where}: {msgid}" for msgid, where in sorted(missing.items())
    )


def test_catalogues_are_complete_and_agree() -> None:
    folder = resources.files("ewallet.web") / "locale" / "zh_CN"
    seen: dict[str, tuple[str, str]] = {}
    problems: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if not message.id:
                continue
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            raw = message.string
            text = raw if isinstance(raw, str) else (raw[0] if raw else "")
            if message.fuzzy or not text:
                problems.append(f"{entry.name}: {msgid!r} is fuzzy or empty")
                continue
            earlier = seen.get(msgid)
            if earlier is not None and earlier[1] != text:
                where, said = earlier
                problems.append(f"{msgid!r}: {where} says {said!r}, {entry.name} {text!r}")
            seen.setdefault(msgid, (entry.name, text))
    assert not problems, "\n".join(problems)
