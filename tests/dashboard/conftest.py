"""Fixtures for the dashboard's browser tests: one real ``agenttrace serve`` (embedded
defaults, its own data dir) serving dashboard/dist, seeded with realistic agent traces;
Debian's headless chromium (/usr/bin/chromium, never a downloaded browser) driven by
Playwright's async API; pages that are logged in, and whose console must stay clean."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)

from tests.dashboard.seed import Seeded, seed
from tests.e2e.helpers import Api
from tests.processes import ROOT
from tests.sdk.conftest import Serve
from tests.secrets_registry import remember_secret

DIST = ROOT / "dashboard" / "dist"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
"""Every page in light and dark, written by the e2e run (CI keeps artifacts/)."""

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = remember_secret("dashboard admin password 1234")
VIEWPORT: ViewportSize = {"width": 1366, "height": 850}
"""A laptop."""

expect.set_options(timeout=15_000)

Theme = Literal["light", "dark"]


@pytest.fixture(scope="session")
def dashboard_build() -> Path:
    if not (DIST / "index.html").is_file():
        pytest.fail(
            f"{DIST} is missing: build the dashboard first with scripts/build-dashboard.sh"
            " (scripts/test.sh does it)",
            pytrace=False,
        )
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: `python -m devservices fetch` installs Debian's chromium",
            pytrace=False,
        )
    return DIST


@pytest.fixture(scope="package")
def server(dashboard_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """``agenttrace serve`` with a known first admin; its first project's key is ``.api``."""
    saved = {k: os.environ.pop(k) for k in [k for k in os.environ if k.startswith("AGENTTRACE_")]}
    env = {"AGENTTRACE_ADMIN_EMAIL": ADMIN_EMAIL, "AGENTTRACE_ADMIN_PASSWORD": ADMIN_PASSWORD}
    serve = Serve(tmp_path_factory.mktemp("dashboard-serve") / "data", env)
    try:
        serve.start()
        yield serve
    finally:
        if serve.api is not None:
            serve.api.http.close()
        if serve.process is not None:
            serve.stop()
        os.environ.update(saved)


@pytest.fixture(scope="package")
def api(server: Serve) -> Api:
    """The default project's API key (all scopes), printed by serve's first start."""
    assert server.api is not None
    return server.api


@pytest.fixture(scope="package")
def seeded(api: Api) -> Seeded:
    return seed(api)


class Admin:
    """The first admin, through the API (for setting things up, not for what is tested)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        response = self.http.post(
            "/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.token: str = response.json()["access_token"]

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        body: dict[str, Any] = response.json()
        assert response.status_code == 200, body
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    def create_user(self, email: str, role: str) -> str:
        """A person with ``role`` in the admin's organisation; returns the one-time password."""
        orgs = self.graphql("{ viewer { organizations { id name } } }")["viewer"]["organizations"]
        created = self.graphql(
            """mutation($email: String!, $org: ID!, $role: Role!) {
                 createUser(email: $email, organizationId: $org, role: $role) {
                   oneTimePassword } }""",
            email=email,
            org=orgs[0]["id"],
            role=role,
        )
        one_time: str = created["createUser"]["oneTimePassword"]
        return remember_secret(one_time)


@pytest.fixture(scope="package")
def admin(server: Serve) -> Iterator[Admin]:
    client = Admin(server.base_url)
    yield client
    client.http.close()


@dataclass
class Console:
    """A page's console errors and warnings and its uncaught exceptions; a test passes
    only if there are none, except those it said it expects (``allow``)."""

    messages: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            where = message.location.get("url", "")
            self.messages.append(f"console.{message.type}: {message.text} ({where})")

    def _page_error(self, error: Error) -> None:
        self.messages.append(f"uncaught: {error.name}: {error.message}\n{error.stack}")

    def allow(self, pattern: str) -> None:
        """Expects console errors matching ``pattern`` (a regex), such as the network
        error chromium itself logs for a 401 the test provokes on purpose."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]


@dataclass
class Browsing:
    """Opens pages in fresh browser contexts (each its own tab storage, so its own
    sign-in) and checks their consoles at the end of the test."""

    browser: Browser
    base_url: str
    console: Console = field(default_factory=Console)
    contexts: list[BrowserContext] = field(default_factory=list)

    async def new_page(self, theme: Theme = "light") -> Page:
        context = await self.browser.new_context(
            base_url=self.base_url, viewport=VIEWPORT, color_scheme=theme
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = await context.new_page()
        self.console.attach(page)
        return page

    async def logged_in(
        self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD, theme: Theme = "light"
    ) -> Page:
        page = await self.new_page(theme)
        await page.goto("/login")
        await log_in(page, email, password)
        await expect(page.get_by_role("navigation", name="Pages", exact=True)).to_be_visible()
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


async def log_in(page: Page, email: str, password: str) -> None:
    form = page.get_by_role("form", name="Log in")
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill(password)
    await form.get_by_role("button", name="Log in").click()


@pytest.fixture(scope="package")
async def browser(dashboard_build: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking"],
            headless=True,
        )
        yield launched
        await launched.close()


@pytest.fixture
async def browsing(browser: Browser, server: Serve) -> AsyncIterator[Browsing]:
    browsing = Browsing(browser, server.base_url)
    yield browsing
    await browsing.close()
    problems = browsing.console.unexpected()
    assert not problems, "the browser console has errors or warnings:\n" + "\n".join(problems)


@pytest.fixture
async def page(browsing: Browsing, seeded: Seeded) -> Page:
    """A page signed in as the first admin (an owner of the default project), with the
    seed traces stored."""
    return await browsing.logged_in()


def screenshot_path(name: str, theme: Theme) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}-{theme}.png"


def publish_screenshot(name: str, theme: Theme) -> Path:
    """docs/screenshots/<name>.png, which the README shows. The run refreshes it only when
    PUBLISH_SCREENSHOTS=1, so an ordinary test run leaves the checkout as it was."""
    docs = ROOT / "docs" / "screenshots"
    published = docs / f"{name}.png"
    if os.environ.get("PUBLISH_SCREENSHOTS") == "1":
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot_path(name, theme), published)
    assert published.is_file(), f"{published} is missing: run with PUBLISH_SCREENSHOTS=1"
    return published
