"""The web wallet's tests: one served wallet per module and backend, one Chromium per module,
a fresh browser context (phone-sized, English) per test. tests/fixtures/web.py has the how."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import BACKENDS
from tests.fixtures.web import LiveWallet, PageErrors, launch_browser, live_wallet_for, open_page


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveWallet]:
    """The wallet served on SQLite, then on PostgreSQL (every test of the module runs on both)."""
    folder = tmp_path_factory.mktemp(f"web-{request.param}")
    yield from live_wallet_for(str(request.param), request, folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    """A phone-sized English page; the test fails if the page logged an error."""
    opened = open_page(browser, errors=page_errors)
    yield opened
    opened.context.close()
    assert not page_errors, f"the page logged errors: {page_errors}"


@pytest.fixture
def browser_zh(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    """Like ``page``, in a browser whose language is Chinese."""
    opened = open_page(browser, locale="zh-CN", errors=page_errors)
    yield opened
    opened.context.close()
    assert not page_errors, f"the page logged errors: {page_errors}"
