"""The merchant portal's tests: one served app per module and backend, one Chromium per
module, a fresh desktop-sized English browser context per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import BACKENDS
from tests.fixtures.console import open_console_page
from tests.fixtures.merchant_portal import LivePortal, as_portal
from tests.fixtures.shop import clock, shop
from tests.fixtures.web import PageErrors, launch_browser, live_wallet_for

__all__ = ["clock", "shop"]


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LivePortal]:
    """The app served on SQLite, then on PostgreSQL (every test of the module runs on both)."""
    folder = tmp_path_factory.mktemp(f"portal-{request.param}")
    for served in live_wallet_for(str(request.param), request, folder):
        yield as_portal(served)


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
