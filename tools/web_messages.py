"""The web pages' messages: which msgids the templates and page modules use, and which of
them have no Chinese translation in ``src/ewallet/web/locale/zh_CN/*.po``.

    .venv/bin/python -m tools.web_messages            # list untranslated msgids
    .venv/bin/python -m tools.web_messages --po X     # ... as PO entries to paste into X.po

Templates are read with Jinja's Babel extractor (``_()``, ``gettext``, ``{% trans %}``);
Python modules under ``ewallet/web`` with Babel's Python extractor for ``_t("...")``
(:func:`ewallet.web.kit.i18n.translate` imported as ``_t``; ``N_("...")`` marks a text
translated later, when it is shown). tests/web/test_catalogue.py
fails while this lists anything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir

from ewallet.web.kit.i18n import catalogue

WEB = Path(__file__).resolve().parent.parent / "src" / "ewallet" / "web"


def used_messages() -> dict[str, str]:
    """msgid -> the first file (relative to ewallet/web) that uses it."""
    found: dict[str, str] = {}
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {
        "templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"},
        "**.py": {},
    }
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_t": None, "N_": None}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(WEB), method_map=method_map, options_map=options, keywords=keywords
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, filename)
    return found


def untranslated() -> dict[str, str]:
    catalogue.cache_clear()
    known = catalogue()
    return {msgid: where for msgid, where in used_messages().items() if msgid not in known}


def _po_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--po", action="store_true", help="print PO entries to fill in")
    args = parser.parse_args()
    missing = untranslated()
    for msgid, where in sorted(missing.items(), key=lambda item: (item[1], item[0])):
        if args.po:
            print(f'#: {where}\nmsgid {_po_string(msgid)}\nmsgstr ""\n')  # noqa: T201
        else:
            print(f"{where}: {msgid}")  # noqa: T201
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
