"""The README's configuration table names every setting the wallet reads."""

from __future__ import annotations

import re
from pathlib import Path

from ewallet.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`EWALLET_([A-Z0-9_]+)[`=]", README.read_text(encoding="utf-8")))
    settings = {name.upper() for name in Settings.model_fields}
    assert settings - documented == set()
    # Besides the settings, the README documents the test suite's own variables and the
    # engine's SQLite durability level (read where engines are made, before any settings).
    assert documented - settings == {
        "SQLITE_SYNCHRONOUS",
        "TEST_POSTGRES_URL",
        "REQUIRE_POSTGRES",
        "REQUIRE_REDIS",
        "REQUIRE_BROWSER",
    }
