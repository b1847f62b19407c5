"""The staff console's tests: one served app per module and backend, one Chromium per module,
a fresh desktop-sized English browser context per test (tests/fixtures/console.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import BACKENDS
from tests.fixtures.console import LiveConsole, as_console, open_console_page
from tests.fixtures.web import PageErrors, launch_browser, live_wallet_for


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveConsole]:
    """The app served on SQLite, then on PostgreSQL (every test of the module runs on both)."""
    folder = tmp_path_factory.mktemp(f"console-{request.param}")
    for served in live_wallet_for(str(request.param), request, folder):
        yield as_console(served)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    """A desktop-sized English page; the test fails if the page logged an error."""
    opened = open_console_page(browser, errors=page_errors)
    yield opened
    opened.context.close()
    assert not page_errors, f"the page logged errors: {page_errors}"


@pytest.fixture
def second_page(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    """Another staff member's browser (its own cookies), for maker-checker tests."""
    opened = open_console_page(browser, errors=page_errors)
    yield opened
    opened.context.close()


@pytest.fixture
def browser_zh(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    """Like ``page``, in a browser whose language is Chinese."""
    opened = open_console_page(browser, locale="zh-CN", errors=page_errors)
    yield opened
    opened.context.close()
    assert not page_errors, f"the page logged errors: {page_errors}"
