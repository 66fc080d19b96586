"""The dashboard end to end (issue 6's acceptance): Debian's headless chromium, driven by
Playwright, against a real ``agenttrace serve`` seeded through the native API and OTLP.

Pages are found by the accessible names of the dashboard's CONTRACT (roles, labels,
aria-labels), never by CSS classes. Every wait is on a condition; no timings are asserted
(timings belong in bench/). Each test fails if the browser console shows an error or a
warning."""

from __future__ import annotations

import asyncio
import re
import time

from playwright.async_api import Locator, Page, WebSocket, expect

from tests.dashboard.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    Admin,
    Browsing,
    log_in,
)
from tests.dashboard.seed import (
    ASSISTANT_ANSWER,
    USER_QUESTION,
    Seeded,
    SeededTrace,
    otlp_trace_spans,
    send_native,
    send_otlp,
)
from tests.e2e.helpers import API_KEY, Api
from tests.payloads import native_batch, new_span_id, new_trace_id, otlp_span
from tests.sdk.conftest import Serve
from tests.secrets_registry import remember_secret


def trace_link(page: Page, trace: SeededTrace | str) -> Locator:
    name = trace if isinstance(trace, str) else trace.name
    return page.get_by_role("table", name="Traces").get_by_role("link", name=name, exact=True)


def tree_item(page: Page, span_name: str) -> Locator:
    tree = page.get_by_role("tree", name="Span tree")
    return tree.get_by_role("treeitem", name=re.compile("^" + re.escape(span_name)))


def waterfall_bar(page: Page, span_name: str) -> Locator:
    waterfall = page.get_by_role("region", name="Waterfall")
    return waterfall.locator(f'[title^="{span_name} · "]')


class Subscriptions:
    """Counts the GraphQL subscriptions the page starts over its WebSockets (only the
    frame type is read), so a test sends live data once the page listens."""

    def __init__(self, page: Page) -> None:
        self.started = 0
        self._changed = asyncio.Event()
        page.on("websocket", self._watch)

    def _watch(self, socket: WebSocket) -> None:
        socket.on("framesent", self._frame)

    def _frame(self, payload: str | bytes) -> None:
        text = payload if isinstance(payload, str) else payload.decode(errors="replace")
        if re.search(r'"type"\s*:\s*"(subscribe|start)"', text):
            self.started += 1
            self._changed.set()

    async def wait_beyond(self, count: int, timeout_s: float = 15) -> None:
        async with asyncio.timeout(timeout_s):
            while self.started <= count:
                self._changed.clear()
                await self._changed.wait()


class Loads:
    """Counts full document loads, to tell a live update from a reload."""

    def __init__(self, page: Page) -> None:
        self.count = 0
        page.on("load", self._loaded)

    def _loaded(self, _: Page) -> None:
        self.count += 1


async def test_log_in_and_a_wrong_password_shows_the_error(
    browsing: Browsing, seeded: Seeded
) -> None:
    # chromium itself logs the 401 the wrong password gets; nothing else may be logged.
    browsing.console.allow(r"status of 401 .*/api/v1/auth/login\)$")
    page = await browsing.new_page()
    await page.goto("/traces")
    form = page.get_by_role("form", name="Log in")
    await expect(form).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/login$"))

    await log_in(page, ADMIN_EMAIL, remember_secret("not the admin password 0000"))
    await expect(form.get_by_role("alert")).to_be_visible()
    await expect(form.get_by_role("alert")).not_to_be_empty()
    await expect(page.get_by_role("navigation", name="Pages", exact=True)).to_have_count(0)

    await log_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    nav = page.get_by_role("navigation", name="Pages", exact=True)
    await expect(nav).to_be_visible()
    for name in ("Overview", "Traces", "Sessions", "Analytics", "Projects"):
        await expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/traces$"))  # where they were going
    await expect(page.get_by_role("combobox", name="Project")).to_be_visible()

    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("form", name="Log in")).to_be_visible()


async def test_the_seeded_traces_are_listed_with_links_to_them(page: Page, seeded: Seeded) -> None:
    await page.goto("/traces")
    for trace in seeded.all:
        link = trace_link(page, trace)
        await expect(link).to_be_visible()
        await expect(link).to_have_attribute(
            "href", re.compile(rf"/traces/{trace.trace_id}(\?.*)?$")
        )


async def test_filters_apply_and_are_kept_in_the_url_across_a_reload(
    page: Page, seeded: Seeded
) -> None:
    await page.goto("/traces")
    await expect(trace_link(page, seeded.support)).to_be_visible()

    status = page.get_by_role("combobox", name="Status")
    await status.select_option("ERROR")
    await expect(page).to_have_url(re.compile(r"\?.*ERROR"))
    for _ in range(2):
        await expect(trace_link(page, seeded.refund)).to_be_visible()
        await expect(trace_link(page, seeded.support)).to_have_count(0)
        await expect(trace_link(page, seeded.turns[0])).to_have_count(0)
        await page.reload()
        await expect(page.get_by_role("combobox", name="Status")).to_have_value("ERROR")

    await page.get_by_role("combobox", name="Status").select_option(label="Any")
    await expect(trace_link(page, seeded.support)).to_be_visible()
    search = page.get_by_label("Search", exact=True)
    await search.fill("trip-planner")
    await search.press("Enter")
    await expect(page).to_have_url(re.compile(r"\?.*trip-planner"))
    await expect(page).not_to_have_url(re.compile(r"ERROR"))
    for _ in range(2):
        for turn in seeded.turns:
            await expect(trace_link(page, turn)).to_be_visible()
        await expect(trace_link(page, seeded.support)).to_have_count(0)
        await expect(trace_link(page, seeded.refund)).to_have_count(0)
        await page.reload()
        await expect(page.get_by_label("Search", exact=True)).to_have_value("trip-planner")


async def test_a_trace_shows_its_tree_waterfall_and_an_llm_spans_messages(
    page: Page, seeded: Seeded
) -> None:
    await page.goto("/traces")
    await trace_link(page, seeded.support).click()
    await expect(page).to_have_url(re.compile(rf"/traces/{seeded.support.trace_id}"))

    for name in seeded.support.span_names:
        await expect(tree_item(page, name)).to_be_visible()
        await expect(waterfall_bar(page, name)).to_have_count(1)

    await tree_item(page, "answer gpt-4o").click()
    detail = page.get_by_role("region", name="Span detail")
    await expect(detail).to_contain_text("answer gpt-4o")
    user = detail.get_by_role("article", name="user message")
    await expect(user).to_have_count(1)
    await expect(user).to_contain_text(USER_QUESTION)
    assistant = detail.get_by_role("article", name="assistant message")
    await expect(assistant.filter(has_text=ASSISTANT_ANSWER)).to_have_count(1)
    await expect(detail.get_by_role("article", name="system message")).to_have_count(1)
    await expect(detail).to_contain_text("gpt-4o")

    await expect(page.get_by_role("form", name="Add annotation")).to_be_visible()

    graph_tab = page.get_by_role("tab", name="Graph").or_(
        page.get_by_role("button", name="Graph", exact=True)
    )
    await graph_tab.click()
    graph = page.get_by_role("region", name="Agent graph")
    await expect(graph).to_be_visible()
    await expect(graph).to_contain_text("lookup_order")


async def test_the_keyboard_walks_the_tree_and_a_span_gets_an_annotation(
    page: Page, api: Api, seeded: Seeded
) -> None:
    await page.goto(f"/traces/{seeded.support.trace_id}")
    await tree_item(page, "support-agent").click()
    await expect(tree_item(page, "support-agent")).to_have_attribute("aria-selected", "true")
    detail = page.get_by_role("region", name="Span detail")
    tree = page.get_by_role("tree", name="Span tree")
    for name in ("plan gpt-4o", "lookup_order"):  # arrows move the focus, Enter selects
        await page.keyboard.press("ArrowDown")
        row_id = await tree_item(page, name).get_attribute("id")
        await expect(tree).to_have_attribute("aria-activedescendant", row_id or "(no id)")
    await page.keyboard.press("Enter")
    await expect(tree_item(page, "lookup_order")).to_have_attribute("aria-selected", "true")
    await expect(detail).to_contain_text("lookup_order")
    await expect(detail).to_contain_text("4521")  # the tool's input, as JSON

    form = page.get_by_role("form", name="Add annotation")
    await form.get_by_label("Name").fill("helpfulness")
    await form.get_by_label("Score").fill("0.9")
    await form.get_by_label("Comment").fill("Found the order at once.")
    await form.get_by_role("button", name="Add annotation").click()
    await expect(form.get_by_role("status")).to_contain_text("helpfulness")

    query = """query($id: String!) { project { trace(traceId: $id) {
                 spans { name annotations { name score comment } } } } }"""
    response = api.http.post(
        "/graphql",
        json={"query": query, "variables": {"id": seeded.support.trace_id}},
        headers=api.auth,
    )
    spans = {s["name"]: s for s in response.json()["data"]["project"]["trace"]["spans"]}
    assert spans["lookup_order"]["annotations"] == [
        {"name": "helpfulness", "score": 0.9, "comment": "Found the order at once."}
    ]


async def test_an_error_span_shows_its_error_and_stack(page: Page, seeded: Seeded) -> None:
    await page.goto(f"/traces/{seeded.refund.trace_id}")
    await tree_item(page, "issue_refund").click()
    detail = page.get_by_role("region", name="Span detail")
    await expect(detail).to_contain_text("PaymentDeclined")
    await expect(detail).to_contain_text("the issuing bank refused the refund")
    await expect(detail).to_contain_text("gateway.refund(order_id, amount)")


async def test_spans_sent_over_otlp_appear_live_on_the_list_and_the_open_trace(
    page: Page, api: Api, seeded: Seeded
) -> None:
    subscriptions = Subscriptions(page)
    loads = Loads(page)
    await page.goto("/traces")
    await expect(trace_link(page, seeded.support)).to_be_visible()
    await subscriptions.wait_beyond(0)
    loads_before = loads.count

    trace_id = new_trace_id()
    t0 = time.time_ns()
    root_only, root_id = otlp_trace_spans(trace_id, "live-otlp-agent", t0, children=False)
    send_otlp(api, root_only)
    link = trace_link(page, "live-otlp-agent")
    await expect(link).to_be_visible()  # on the list, live

    listening = subscriptions.started
    await link.click()
    await expect(tree_item(page, "live-otlp-agent")).to_be_visible()
    await subscriptions.wait_beyond(listening)
    await expect(tree_item(page, "generate answer")).to_have_count(0)

    children, _ = otlp_trace_spans(trace_id, "live-otlp-agent", t0, root=root_id)
    send_otlp(api, children)
    for name in ("vector_search", "generate answer"):
        await expect(tree_item(page, name)).to_be_visible()  # on the open trace, live
        await expect(waterfall_bar(page, name)).to_have_count(1)
    assert loads.count == loads_before, "the page reloaded"


async def test_only_traces_matching_the_filters_arrive_live(
    page: Page, api: Api, seeded: Seeded
) -> None:
    subscriptions = Subscriptions(page)
    await page.goto("/traces")
    await page.get_by_role("combobox", name="Status").select_option("ERROR")
    await expect(trace_link(page, seeded.refund)).to_be_visible()
    await expect(trace_link(page, seeded.support)).to_have_count(0)
    await subscriptions.wait_beyond(0)

    ok_id, failed_id = new_trace_id(), new_trace_id()
    ok_spans, _ = otlp_trace_spans(ok_id, "live-but-fine", time.time_ns())
    send_otlp(api, ok_spans)
    api.wait_for_trace(ok_id, len(ok_spans))
    failed_root = otlp_span(failed_id, new_span_id(), name="live-and-failing", error=True)
    send_otlp(api, [failed_root])
    await expect(trace_link(page, "live-and-failing")).to_be_visible()
    await expect(trace_link(page, "live-but-fine")).to_have_count(0)


async def test_an_admin_creates_an_api_key_ingests_with_it_and_revokes_it(
    page: Page, api: Api, server: Serve
) -> None:
    await page.goto("/projects")
    await page.get_by_role("button", name="Create API key").click()
    form = page.get_by_role("form", name="Create API key")
    await expect(form.get_by_role("checkbox", name="Ingest")).to_be_checked()
    await form.get_by_role("button", name="Create key").click()
    shown = page.get_by_label("New API key", exact=True)
    await expect(shown).to_contain_text(API_KEY)
    match = API_KEY.search(await shown.inner_text())
    assert match is not None
    secret = remember_secret(match.group(0))
    await expect(page.get_by_text(re.compile("OTEL_EXPORTER_OTLP")).first).to_be_visible()

    trace_id = new_trace_id()
    t0 = time.time_ns()
    body = native_batch(
        trace_id,
        [
            {
                "span_id": new_span_id(),
                "name": "sent-with-the-new-key",
                "kind": "AGENT",
                "start_time": t0,
                "end_time": t0 + 5_000_000,
            }
        ],
    )
    new_key = Api(server.base_url, secret)
    try:
        send_native(new_key, body)
        api.wait_for_trace(trace_id, 1)
        nav = page.get_by_role("navigation", name="Pages", exact=True)
        await nav.get_by_role("link", name="Traces").click()
        await expect(trace_link(page, "sent-with-the-new-key")).to_be_visible()

        await nav.get_by_role("link", name="Projects").click()
        keys = page.get_by_role("region", name="API keys")
        rows = keys.get_by_role("row")
        await expect(rows.filter(has_text="Active")).to_have_count(2)
        prefixes = await rows.locator("code").all_inner_texts()
        [prefix] = [p.rstrip("…") for p in prefixes if secret.startswith(p.rstrip("…"))]
        await rows.filter(has_text=prefix).get_by_role("button", name="Revoke").click()
        await page.get_by_role("button", name="Revoke key").click()
        await expect(rows.filter(has_text=prefix)).to_contain_text("Revoked")
        refused = new_key.post("/api/v1/traces", b'{"traces": []}', "application/json")
        assert refused.status_code == 401, refused.text
    finally:
        new_key.http.close()


async def test_a_viewer_changes_the_one_time_password_and_cannot_manage_keys(
    browsing: Browsing, admin: Admin, seeded: Seeded
) -> None:
    one_time = admin.create_user("viewer@example.com", "VIEWER")
    page = await browsing.new_page()
    await page.goto("/login")
    await log_in(page, "viewer@example.com", one_time)

    form = page.get_by_role("form", name="Log in")
    await expect(form.get_by_label("New password")).to_be_visible()
    await form.get_by_label("Current password").fill(one_time)
    await form.get_by_label("New password").fill(remember_secret("the viewer's own password"))
    await form.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("navigation", name="Pages", exact=True)).to_be_visible()

    await page.goto("/traces")
    await expect(trace_link(page, seeded.support)).to_be_visible()  # viewers read

    await page.goto("/projects")
    await expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    for control in ("Create API key", "Revoke", "New project", "Rename", "Delete"):
        await expect(page.get_by_role("button", name=control)).to_have_count(0)


async def test_a_deep_link_opens_directly_after_sign_in_and_on_reload(
    browsing: Browsing, seeded: Seeded
) -> None:
    page = await browsing.new_page()
    await page.goto(f"/traces/{seeded.refund.trace_id}")
    await log_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    await expect(page).to_have_url(re.compile(rf"/traces/{seeded.refund.trace_id}$"))
    await expect(tree_item(page, "issue_refund")).to_be_visible()

    await page.reload()
    await expect(tree_item(page, "issue_refund")).to_be_visible()
    await expect(page.get_by_role("form", name="Log in")).to_have_count(0)


async def test_the_theme_toggle_switches_between_dark_and_light(page: Page) -> None:
    html = page.locator("html")
    await expect(html).to_have_attribute("data-theme", "light")
    light_background = await page.evaluate("getComputedStyle(document.body).backgroundColor")

    await page.get_by_role("button", name="Switch to dark theme").click()
    await expect(html).to_have_attribute("data-theme", "dark")
    dark_background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark_background != light_background

    await page.reload()  # the choice is kept
    await expect(html).to_have_attribute("data-theme", "dark")
    await page.get_by_role("button", name="Switch to light theme").click()
    await expect(html).to_have_attribute("data-theme", "light")


async def test_the_overview_shows_the_last_hour_and_live_traces(
    page: Page, api: Api, seeded: Seeded
) -> None:
    subscriptions = Subscriptions(page)
    await page.goto("/")
    last_hour = page.get_by_role("region", name="Last hour")
    for figure in ("Traces", "Error rate", "p95 latency", "Tokens", "Cost"):
        await expect(last_hour.get_by_role("figure", name=figure)).to_contain_text(
            re.compile(r"\d")
        )
    live = page.get_by_role("region", name="Live traces")
    await expect(live).to_be_visible()
    await subscriptions.wait_beyond(0)

    trace_id = new_trace_id()
    spans, _ = otlp_trace_spans(trace_id, "overview-live-trace", time.time_ns())
    send_otlp(api, spans)
    await expect(live.get_by_text("overview-live-trace")).to_be_visible()


async def test_a_session_shows_its_traces_in_order(page: Page, seeded: Seeded) -> None:
    await page.goto("/sessions")
    sessions = page.get_by_role("table", name="Sessions")
    await sessions.get_by_text(seeded.session_id).click()
    first = page.get_by_text(seeded.turns[0].name, exact=True).first
    second = page.get_by_text(seeded.turns[1].name, exact=True).first
    await expect(first).to_be_visible()
    await expect(second).to_be_visible()
    first_box, second_box = await first.bounding_box(), await second.bounding_box()
    assert first_box is not None
    assert second_box is not None
    assert first_box["y"] < second_box["y"], "the session's turns are not in order"


async def test_analytics_charts_every_measure_by_each_grouping(page: Page, seeded: Seeded) -> None:
    await page.goto("/analytics")
    await expect(page.get_by_role("combobox", name="Time range")).to_be_visible()
    group_by = page.get_by_role("combobox", name="Group by")
    options = await group_by.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert len(options) >= 2, options
    for option in options:
        await group_by.select_option(option)
        for chart in ("Volume", "Error rate", "Latency", "Tokens", "Cost"):
            region = page.get_by_role("region", name=chart, exact=True)
            await expect(region.locator("svg").first).to_be_visible()
