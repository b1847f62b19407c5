"""``ewallet help import`` / ``export``: a Markdown round trip, revisions, audit, errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from ewallet.cli.main import app as cli
from ewallet.config import Settings
from ewallet.help import service
from ewallet.help.articles import DEFAULT_DIR, read_dir
from ewallet.kit.clock import FrozenClock
from tests.fixtures.staff import START, audit_actions
from tests.fixtures.support import bare_services
from tests.help.conftest import count_rows

DEFAULTS = read_dir(DEFAULT_DIR)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.secret_key is not None
    assert settings.pin_pepper is not None
    monkeypatch.setenv("EWALLET_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EWALLET_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("EWALLET_SECRET_KEY", settings.secret_key.get_secret_value())
    monkeypatch.setenv("EWALLET_PIN_PEPPER", settings.pin_pepper.get_secret_value())


async def invoke(*args: str) -> tuple[int, str]:
    # A thread of its own: the command runs its own event loop, as from a shell.
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args))
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.usefixtures("cli_env")
async def test_import_export_round_trip(engine: AsyncEngine, tmp_path: Path) -> None:
    code, out = await invoke("help", "import", "--json")
    assert code == 0, out
    assert json.loads(out) == {"created": len(DEFAULTS), "updated": 0, "unchanged": 0}
    assert [a[0] for a in await audit_actions(engine)] == ["help.articles_imported"]

    code, out = await invoke("help", "export", "--dir", str(tmp_path))
    assert code == 0, out
    assert len(list(tmp_path.glob("*.md"))) == 2 * len(DEFAULTS)
    assert read_dir(tmp_path) == DEFAULTS  # what came in goes out, byte for byte in meaning
    for path in tmp_path.glob("*.md"):
        assert path.read_text(encoding="utf-8") == (DEFAULT_DIR / path.name).read_text(
            encoding="utf-8"
        ), path.name

    before = await count_rows(engine)
    code, out = await invoke("help", "import", "--dir", str(tmp_path))
    assert code == 0, out
    assert f"0 created, 0 updated, {len(DEFAULTS)} unchanged" in out
    assert await count_rows(engine) == before
    assert len(await audit_actions(engine)) == 1  # nothing changed, nothing recorded


@pytest.mark.usefixtures("cli_env")
async def test_an_edited_file_becomes_a_new_revision(engine: AsyncEngine, tmp_path: Path) -> None:
    assert (await invoke("help", "import"))[0] == 0
    assert (await invoke("help", "export", "--dir", str(tmp_path)))[0] == 0
    edited = tmp_path / "contact-us.en.md"
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("Hotline 95588", "Hotline 95588 (24 h)"),
        encoding="utf-8",
    )
    code, out = await invoke("help", "import", "--dir", str(tmp_path), "--json")
    assert code == 0, out
    assert json.loads(out) == {"created": 0, "updated": 1, "unchanged": len(DEFAULTS) - 1}
    services = bare_services(engine, Settings(), FrozenClock(START))
    article, versions = await service.revision_history(services, "contact-us")
    assert article.versions["en"].revision == 2
    assert "Hotline 95588 (24 h)" in article.versions["en"].body
    assert article.versions["zh-CN"].revision == 1
    assert [(v.locale, v.revision, v.source) for v in versions if v.locale == "en"] == [
        ("en", 2, "import"),
        ("en", 1, "import"),
    ]
    actions = await audit_actions(engine)
    assert actions[-1][0] == "help.articles_imported"


@pytest.mark.usefixtures("cli_env")
async def test_a_malformed_folder_imports_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    (tmp_path / "good.en.md").write_text(
        "---\nslug: good\ncategory: support\ntitle: Good\n---\nBody\n", encoding="utf-8"
    )
    (tmp_path / "bad.en.md").write_text("no front matter\n", encoding="utf-8")
    before = await count_rows(engine)
    code, out = await invoke("help", "import", "--dir", str(tmp_path))
    assert code == 1
    assert "bad.en.md: must start with" in out
    assert await count_rows(engine) == before
