"""Screenshots of every page, light and dark, into artifacts/screenshots/ (CI keeps the
folder); the traces list and a trace's detail are also copied to docs/screenshots/ for the
README. Each page is shot once what it shows has loaded (a condition, never a delay)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from tests.dashboard.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    Browsing,
    Theme,
    log_in,
    publish_screenshot,
    screenshot_path,
)
from tests.dashboard.seed import USER_QUESTION, Seeded
from tests.processes import ROOT

Ready = Callable[[Page, Seeded], Awaitable[None]]


async def overview_ready(page: Page, seeded: Seeded) -> None:
    await expect(page.get_by_role("region", name="Live traces")).to_be_visible()
    last_hour = page.get_by_role("region", name="Last hour")
    await expect(last_hour.get_by_role("figure", name="Traces")).to_contain_text(re.compile(r"\d"))


async def traces_ready(page: Page, seeded: Seeded) -> None:
    table = page.get_by_role("table", name="Traces")
    for trace in seeded.all:
        await expect(table.get_by_role("link", name=trace.name, exact=True)).to_be_visible()


async def trace_ready(page: Page, seeded: Seeded) -> None:
    tree = page.get_by_role("tree", name="Span tree")
    await tree.get_by_role("treeitem", name=re.compile("^answer gpt-4o")).click()
    detail = page.get_by_role("region", name="Span detail")
    await expect(detail.get_by_role("article", name="user message")).to_contain_text(USER_QUESTION)
    await expect(page.get_by_role("region", name="Waterfall")).to_be_visible()


async def trace_graph_ready(page: Page, seeded: Seeded) -> None:
    await page.get_by_role("tab", name="Graph").click()
    graph = page.get_by_role("region", name="Agent graph")
    await expect(graph).to_contain_text("lookup_order")


async def trace_error_ready(page: Page, seeded: Seeded) -> None:
    tree = page.get_by_role("tree", name="Span tree")
    await tree.get_by_role("treeitem", name=re.compile("^issue_refund")).click()
    detail = page.get_by_role("region", name="Span detail")
    await expect(detail).to_contain_text("PaymentDeclined")


async def sessions_ready(page: Page, seeded: Seeded) -> None:
    sessions = page.get_by_role("table", name="Sessions")
    await sessions.get_by_text(seeded.session_id).click()
    for turn in seeded.turns:
        await expect(page.get_by_text(turn.name, exact=True).first).to_be_visible()


async def analytics_ready(page: Page, seeded: Seeded) -> None:
    for chart in ("Volume", "Error rate", "Latency", "Tokens", "Cost"):
        region = page.get_by_role("region", name=chart, exact=True)
        await expect(region.locator("svg").first).to_be_visible()


async def projects_ready(page: Page, seeded: Seeded) -> None:
    await expect(page.get_by_role("button", name="Create API key")).to_be_visible()


def pages(seeded: Seeded) -> list[tuple[str, str, Ready]]:
    return [
        ("overview", "/", overview_ready),
        ("traces", "/traces", traces_ready),
        ("trace-detail", f"/traces/{seeded.support.trace_id}", trace_ready),
        ("trace-graph", f"/traces/{seeded.support.trace_id}", trace_graph_ready),
        ("trace-error", f"/traces/{seeded.refund.trace_id}", trace_error_ready),
        ("sessions", "/sessions", sessions_ready),
        ("analytics", "/analytics", analytics_ready),
        ("projects", "/projects", projects_ready),
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_screenshots_of_every_page(browsing: Browsing, seeded: Seeded, theme: Theme) -> None:
    page = await browsing.new_page(theme)
    await page.emulate_media(reduced_motion="reduce")
    await page.goto("/login")
    await expect(page.get_by_role("form", name="Log in")).to_be_visible()
    await page.screenshot(path=screenshot_path("login", theme), animations="disabled")

    await log_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    await expect(page.get_by_role("navigation", name="Pages", exact=True)).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("data-theme", theme)
    for name, path, ready in pages(seeded):
        await page.goto(path)
        await ready(page, seeded)
        await page.screenshot(path=screenshot_path(name, theme), animations="disabled")
    if theme == "light":
        readme = (ROOT / "README.md").read_text()
        for name in ("traces", "trace-detail"):
            published = publish_screenshot(name, theme)
            assert f"]({published.relative_to(ROOT)})" in readme, f"README.md does not show {name}"
