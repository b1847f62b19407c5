"""``make screenshots``: the wallet's main pages at phone size and the staff console's at
desktop size, with the demo data, as PNG files in ``docs/screenshots/`` (for people reading
the README and the docs).

A fresh SQLite database in a temporary folder gets the demo users, merchants and four
weeks of history (``ewallet demo seed``); the app is served on 127.0.0.1 and Debian's
Chromium, driven by Playwright, signs in as the first demo user (the SMS step-up's code is
read from the outbox, as the development SMS outbox would show it) and visits each page at
390x844, in Chinese (the default) and a few in English. A page that answers anything but
200 is reported and skipped, so the command never leaves a stale picture behind.

For the console, one staff member per role is created (as ``ewallet staff create`` does),
signs in with the authenticator's code, replaces the one-time password and visits the
pages of their role at 1366x900 (``console-*.png``).

    .venv/bin/python -m tools.screenshots [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Final

import pyotp
from playwright.sync_api import Page, ViewportSize, sync_playwright
from pydantic import SecretStr
from sqlalchemy import select

from ewallet.app import create_app
from ewallet.audit.service import Actor
from ewallet.config import Settings
from ewallet.demo.people import LOGIN_PASSWORD, PEOPLE
from ewallet.demo.seed import seed_demo
from ewallet.http.deps import app_services
from ewallet.kit.db.engine import make_engine
from ewallet.models.migrate import upgrade
from ewallet.models.outbox import OutboxEvent
from ewallet.models.tables import users
from ewallet.staff.service.accounts import create_staff
from tools.live_server import ServerThread, bound_listener

CHROMIUM: Final = "/usr/bin/chromium"
ARGS: Final = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SIGNED_OUT: Final = (("landing", "/"), ("signin", "/signin"), ("register", "/register"))
SIGNED_IN: Final = (
    ("home", "/"),
    ("history", "/history"),
    ("history-chart", "/history/chart"),
    ("pay", "/pay"),
    ("transfer", "/transfer"),
    ("cards", "/cards"),
    ("topup", "/topup"),
    ("withdraw", "/withdraw"),
    ("bills", "/bills"),
    ("password-free", "/me/password-free"),
    ("me", "/me"),
    ("account-class", "/me/account-class"),
    ("security", "/security"),
    ("devices", "/security/devices"),
    ("notifications", "/notifications"),
    ("help", "/help"),
    ("contact", "/help/contact"),
    ("tickets", "/tickets"),
    ("chat", "/chat"),
)
IN_ENGLISH: Final = (("home-en", "/"), ("history-en", "/history"))
DESKTOP: Final = ViewportSize(width=1366, height=900)
# Each role's pages in the console ("{user}" is the first demo user's id).
CONSOLE: Final = (
    ("admin", (("console-overview", "/console/"), ("console-staff", "/console/staff"))),
    (
        "support_agent",
        (
            ("console-tickets", "/console/tickets"),
            ("console-chats", "/console/chats"),
            ("console-callbacks", "/console/callbacks"),
            ("console-customer", "/console/customers/{user}"),
            ("console-lookup", "/console/lookup"),
            ("console-help-articles", "/console/help/articles"),
        ),
    ),
    (
        "teller",
        (
            ("console-deposit", "/console/counter/deposits/new"),
            ("console-deposits", "/console/counter/deposits"),
        ),
    ),
    ("teller_supervisor", (("console-approvals", "/console/counter/approvals"),)),
    (
        "operator",
        (
            ("console-reconciliation", "/console/reconciliation"),
            ("console-pending", "/console/pending"),
            ("console-outbox", "/console/outbox"),
            ("console-maintenance", "/console/maintenance"),
            ("console-merchants", "/console/merchants"),
        ),
    ),
    (
        "risk_officer",
        (
            ("console-audit", "/console/audit"),
            ("console-large-cash", "/console/counter/large-cash"),
            ("console-risk-rules", "/console/risk/rules"),
            ("console-risk-rule-set", "/console/risk/rules/1"),
            ("console-risk-rule", "/console/risk/rules/1/rules/rapid-in-out"),
            ("console-risk-decisions", "/console/risk/decisions"),
            ("console-risk-hits", "/console/risk/hits"),
            ("console-risk-reviews", "/console/risk/reviews"),
        ),
    ),
)
CONSOLE_PASSWORD: Final = "Screenshots-console-2026"  # noqa: S105 -- throw-away demo staff


def _log(text: str) -> None:
    sys.stderr.write(text + "\n")


def _shoot(page: Page, base: str, name: str, path: str, out: Path) -> bool:
    answer = page.goto(base + path)
    if answer is None or answer.status != 200:
        _log(f"skipped {name}: {path} answered {answer.status if answer else 'nothing'}")
        return False
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out / f"{name}.png"))
    _log(f"{name}.png  {path}")
    return True


async def _migrate(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ewallet-shots-") as folder:
        listener, base = bound_listener()
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{folder}/demo.db",
            var_dir=Path(folder) / "var",
            secret_key=SecretStr("screenshots-secret-key-" + "x" * 32),
            pin_pepper=SecretStr("screenshots-pin-pepper-" + "y" * 32),
            public_url=base,
            embedded_worker=False,
        )
        asyncio.run(_migrate(settings.database_url))
        asyncio.run(seed_demo(settings))
        app = create_app(settings)
        server = ServerThread(app, listener)
        server.start()
        try:
            made = _visit(server, base, out)
            made += _visit_console(server, base, out)
            made += _visit_portal(server, base, out)
        finally:
            server.stop()
    _log(f"{made} screenshots in {out}")
    return 0 if made else 1


def _visit(server: ServerThread, base: str, out: Path) -> int:
    person = PEOPLE[0]
    engine = app_services(server.app).engine

    async def step_up_code() -> str:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(OutboxEvent.payload)
                .where(OutboxEvent.topic == "sms.send")
                .order_by(OutboxEvent.id.desc())
            )
            for (payload,) in rows:
                if payload.get("to") == person.phone and payload.get("purpose") == "step_up":
                    return str(payload["code"])
        raise RuntimeError("no step-up code was texted")

    made = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for locale, pages in (("zh-CN", SIGNED_IN), ("en-US", IN_ENGLISH)):
            context = browser.new_context(
                locale=locale, viewport={"width": 390, "height": 844}, device_scale_factor=1
            )
            page = context.new_page()
            if locale == "zh-CN":
                made += sum(_shoot(page, base, name, path, out) for name, path in SIGNED_OUT)
            page.goto(base + "/signin")
            page.fill("#phone", person.phone)
            page.fill("#password", LOGIN_PASSWORD)
            page.click("form[action='/signin'] button[type=submit]")
            page.wait_for_load_state()
            if page.locator("form[action='/signin/step-up']").count():
                page.fill("#code", server.run(step_up_code()))
                page.click("form[action='/signin/step-up'] button[type=submit]")
                page.wait_for_load_state()
            made += sum(_shoot(page, base, name, path, out) for name, path in pages)
            context.close()
        browser.close()
    return made


def _visit_console(server: ServerThread, base: str, out: Path) -> int:
    services = app_services(server.app)

    async def first_user() -> str:
        async with services.engine.connect() as conn:
            row = (
                await conn.execute(select(users.c.id).where(users.c.phone == PEOPLE[0].phone))
            ).one()
        return str(row.id)

    user_id = server.run(first_user())
    made = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN", viewport=DESKTOP, device_scale_factor=1)
        made += _shoot(context.new_page(), base, "console-signin", "/console/signin", out)
        context.close()
        for role, pages in CONSOLE:
            created = server.run(
                create_staff(
                    services,
                    Actor.system(),
                    email=f"{role.replace('_', '.')}@bank.example",
                    role=role,
                    display_name=STAFF_NAMES.get(role),
                )
            )
            context = browser.new_context(locale="zh-CN", viewport=DESKTOP, device_scale_factor=1)
            page = context.new_page()
            page.goto(base + "/console/signin")
            page.fill("#email", created.staff.email)
            page.fill("#password", created.password)
            page.fill("#totp_code", pyotp.TOTP(created.totp_secret).now())
            page.click("form[action='/console/signin'] button[type=submit]")
            page.wait_for_load_state()
            page.fill("#current_password", created.password)
            page.fill("#new_password", CONSOLE_PASSWORD)
            page.fill("#confirm_password", CONSOLE_PASSWORD)
            page.click("form[action='/console/password'] button[type=submit]")
            page.wait_for_load_state()
            for name, path in pages:
                made += _shoot(page, base, name, path.format(user=user_id), out)
            context.close()
        browser.close()
    return made


def _visit_portal(server: ServerThread, base: str, out: Path) -> int:
    """The merchant portal at desktop size: the first demo merchant's owner signs in for the
    first time (authenticator, own password), then its pages (``portal-*.png``)."""
    from ewallet.merchants.people.service import create_user  # noqa: PLC0415
    from ewallet.models.tables import merchants  # noqa: PLC0415

    services = app_services(server.app)

    async def owner() -> tuple[str, str]:
        async with services.engine.connect() as conn:
            merchant_id = (
                (await conn.execute(select(merchants.c.id).order_by(merchants.c.created_at)))
                .scalars()
                .first()
            )
        assert merchant_id is not None, "the demo has no merchant"
        created = await create_user(
            services,
            Actor.system(),
            merchant_id=merchant_id,
            email="owner@shop.example",
            name="林晓",
            role="owner",
        )
        return created.user.email, created.one_time_password

    email, password = server.run(owner())
    made = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN", viewport=DESKTOP, device_scale_factor=1)
        page = context.new_page()
        made += _shoot(page, base, "portal-signin", "/merchant/signin", out)
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("form[action='/merchant/signin'] button[type=submit]")
        page.wait_for_load_state()
        secret = page.locator("code.mono").inner_text().strip()
        page.fill("#totp_code", pyotp.TOTP(secret).now())
        page.click("form[action='/merchant/totp'] button[type=submit]")
        page.wait_for_load_state()
        page.fill("#current_password", password)
        page.fill("#new_password", CONSOLE_PASSWORD)
        page.fill("#confirm_password", CONSOLE_PASSWORD)
        page.click("form[action='/merchant/password'] button[type=submit]")
        page.wait_for_load_state()
        for name, path in (
            ("portal-home", "/merchant/"),
            ("portal-team", "/merchant/team"),
            ("portal-team-new", "/merchant/team/new"),
            ("portal-orders", "/merchant/orders"),
            ("portal-refunds", "/merchant/refunds"),
            ("portal-settlements", "/merchant/settlements"),
            ("portal-developers", "/merchant/developers"),
            ("portal-till", "/merchant/till"),
            ("portal-qr", "/merchant/qr"),
        ):
            made += _shoot(page, base, name, path, out)
        context.close()
        browser.close()
    return made


STAFF_NAMES: Final = {
    "admin": "陈静 (管理员)",
    "support_agent": "周敏",
    "teller": "吴磊",
    "teller_supervisor": "郑华",
    "operator": "孙涛",
    "risk_officer": "何琳",
}


if __name__ == "__main__":
    sys.exit(main())
