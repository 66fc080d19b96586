"""The dashboard benchmark: how long a trace takes to open in the browser.

    python -m bench.dashboard_trace            # 1,000- and 10,000-span traces, 5 runs each
    python -m bench.dashboard_trace --smoke    # 100- and 1,000-span traces, 2 runs, no write

Starts ``agenttrace serve`` on a fresh temporary ``--data-dir`` (embedded PostgreSQL; the
API key its first start prints, a first admin from AGENTTRACE_ADMIN_EMAIL/PASSWORD),
which serves the built dashboard (dashboard/dist; built first with ``--build``, or when
missing). Ingests one trace of each ``--spans`` size from bench/workload.py (native JSON,
``POST /api/v1/traces`` in batches of 2,000 spans) plus a 10-span trace, the floor, and
waits until every span is stored.

Then Debian's chromium (``/usr/bin/chromium``, headless, through Playwright) logs in on
the login page and opens ``/traces/<id>`` of each trace: ``--warmup`` unmeasured
navigations, then ``--runs`` measured ones, interleaved across the traces. A run is a
full page load (``page.goto``: the app starts, resumes the session with its refresh
token, reads the projects, then the trace's outline). The time is that of the page's
``performance.mark("trace-rendered")``, which the trace view sets in the first frame
after its first tree items and waterfall bars are in the DOM: milliseconds from
navigation start. The run also checks the page then shows tree items (role treeitem) and
as many waterfall bars, and takes the outline request's own timing (sent, answered) from
the Resource Timing entries.

The floor is the same measurement on the 10-span trace: what opening any trace costs
(page load, sign-in, projects, one small query); **x floor** = a size's p50 over the
floor's. The target is ``--budget-ms`` (2,000: a 10,000-span trace opens in under 2 s).

Prints the table and rewrites the "Dashboard: opening a trace" section of
docs/benchmarks.md (not with ``--smoke`` or ``--no-write``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.live import embedded, percentile
from bench.processes import log_directory
from bench.report import markdown_table, write_section
from bench.workload import GeneratedTrace, Workload, native_batch

SECTION = "Dashboard: opening a trace"
ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dashboard" / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking"]
ADMIN_EMAIL = "bench@example.com"
ADMIN_PASSWORD = "bench password 1234"
FLOOR_SPANS = 10
POST_SPANS = 2_000
"""Spans per ingest POST (the native API takes 10 MB a body; 10,000 spans are ~10 MB)."""
MARK = "trace-rendered"
VIEWPORT = {"width": 1440, "height": 900}

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Options:
    sizes: tuple[int, ...] = (1_000, 10_000)
    runs: int = 5
    warmup: int = 1
    budget_ms: float = 2_000.0
    timeout_s: float = 60.0
    """Per navigation: the mark not set by then fails the run."""
    build: bool = False


DEFAULTS = Options()
SMOKE = Options(sizes=(100, 1_000), runs=2, warmup=1)


@dataclass(slots=True)
class Run:
    mark_ms: float
    """Navigation start to the trace-rendered mark."""
    sent_ms: float | None
    """Navigation start to the outline request's start."""
    answered_ms: float | None
    """Navigation start to the outline response's end."""
    tree_items: int
    bars: int


@dataclass(slots=True)
class Size:
    spans: int
    trace_id: str
    root_name: str
    first: Run | None = None
    """The first (warm-up) navigation to it: the browser's caches are cold for the app."""
    runs: list[Run] = field(default_factory=list)


@dataclass(slots=True)
class Result:
    sizes: list[Size]
    chromium: str | None
    built: bool
    bundle_bytes: int
    load_average: tuple[float, float] = (0.0, 0.0)


# --- data ---------------------------------------------------------------------------------


def trace_of(spans: int, now_ns: int) -> GeneratedTrace:
    """A recent trace of exactly ``spans`` spans (the workload's own large-trace shape)."""
    workload = Workload(seed=41, spans_per_trace=spans, now_ns=now_ns, window_s=600)
    return workload.trace(0)


def bodies(trace: GeneratedTrace) -> list[bytes]:
    """The trace as native JSON batches of at most POST_SPANS spans each."""
    return [
        orjson.dumps(native_batch([replace(trace, spans=trace.spans[i : i + POST_SPANS])]))
        for i in range(0, len(trace.spans), POST_SPANS)
    ]


STORED = "query($t: String!) { project { trace(traceId: $t) { spanCount status } } }"


async def ingest(base_url: str, api_key: str, traces: Sequence[GeneratedTrace], say: Say) -> None:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for trace in traces:
            for body in bodies(trace):
                async with http.post(f"{base_url}/api/v1/traces", data=body) as response:
                    if response.status >= 300:
                        raise RuntimeError(
                            f"ingest answered {response.status}: {await response.text()}"
                        )
        deadline = time.monotonic() + 120
        for trace in traces:
            while True:
                query = {"query": STORED, "variables": {"t": trace.trace_id}}
                async with http.post(f"{base_url}/graphql", json=query) as response:
                    found = (await response.json())["data"]["project"]["trace"]
                if found and found["spanCount"] == len(trace.spans):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"trace {trace.trace_id} not stored in full: {found}")
                await asyncio.sleep(0.2)
            say(f"stored a {len(trace.spans):,}-span trace ({trace.trace_id})")


# --- the browser --------------------------------------------------------------------------

_TIMING = """() => {
  const mark = performance.getEntriesByName("trace-rendered")[0];
  if (!mark) return null;
  const outline = performance.getEntriesByType("resource").find((r) => r.name.includes("TraceOutline"));
  const waterfall = document.querySelector('[role="region"][aria-label="Waterfall"]');
  return {
    mark: mark.startTime,
    sent: outline ? outline.startTime : null,
    answered: outline ? outline.responseEnd : null,
    treeItems: document.querySelectorAll('[role="tree"] [role="treeitem"]').length,
    bars: waterfall ? waterfall.querySelectorAll("[title]").length : 0,
    first: document.querySelector('[role="treeitem"]')?.getAttribute("aria-label") ?? null,
  };
}"""


async def _open(page: Any, url: str, size: Size, timeout_s: float) -> Run:
    # A blank page first: the previous trace view's subscription ends with its socket.
    await page.goto("about:blank")
    await asyncio.sleep(0.5)
    await page.goto(url, wait_until="commit")
    deadline = time.monotonic() + timeout_s
    while (found := await page.evaluate(_TIMING)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}: no {MARK!r} mark after {timeout_s:g} s")
        await asyncio.sleep(0.05)
    if not found["treeItems"] or found["treeItems"] != found["bars"]:
        raise RuntimeError(f"{url}: {found['treeItems']} tree items but {found['bars']} bars")
    if not str(found["first"] or "").startswith(size.root_name):
        raise RuntimeError(
            f"{url}: the first tree item is {found['first']!r}, not {size.root_name!r}"
        )
    return Run(found["mark"], found["sent"], found["answered"], found["treeItems"], found["bars"])


async def measure(base_url: str, sizes: list[Size], options: Options, say: Say) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda message: errors.append(message.text) if message.type == "error" else None,
            )
            await page.goto(f"{base_url}/login")
            await page.get_by_label("Email").fill(ADMIN_EMAIL)
            await page.get_by_label("Password").fill(ADMIN_PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            await page.get_by_role("navigation", name="Pages", exact=True).wait_for(timeout=30_000)
            for round_ in range(options.warmup + options.runs):
                for size in sizes:
                    run = await _open(
                        page, f"{base_url}/traces/{size.trace_id}", size, options.timeout_s
                    )
                    if round_ == 0:
                        size.first = run
                    if round_ >= options.warmup:
                        size.runs.append(run)
                    kind = (
                        "warm-up"
                        if round_ < options.warmup
                        else f"run {round_ - options.warmup + 1}"
                    )
                    say(f"{size.spans:>6,} spans, {kind}: {run.mark_ms:,.0f} ms")
            if errors:
                raise RuntimeError("the page logged errors:\n" + "\n".join(errors[:20]))
        finally:
            await browser.close()


# --- the run ------------------------------------------------------------------------------


def chromium_version() -> str | None:
    try:
        out = subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return None
    match = re.search(r"(\d+(?:\.\d+)+)", out)
    return match.group(1) if match else None


def ensure_build(force: bool, say: Say) -> bool:
    """Builds dashboard/dist when asked or missing; True if it did."""
    if not force and (DIST / "index.html").exists():
        return False
    say("building the dashboard (scripts/build-dashboard.sh)")
    subprocess.run([str(ROOT / "scripts" / "build-dashboard.sh")], cwd=ROOT, check=True)
    return True


def bundle_bytes() -> int:
    return sum(p.stat().st_size for p in (DIST / "assets").glob("*.js"))


async def run(options: Options, *, log_dir: Path, progress: bool = True) -> Result:
    def say(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    built = ensure_build(options.build, say)
    start_load = os.getloadavg()[0]
    now_ns = time.time_ns()
    traces = [trace_of(n, now_ns) for n in (FLOOR_SPANS, *options.sizes)]
    sizes = [Size(len(t.spans), t.trace_id, t.spans[0].name) for t in traces]
    settings = {"AGENTTRACE_ADMIN_EMAIL": ADMIN_EMAIL, "AGENTTRACE_ADMIN_PASSWORD": ADMIN_PASSWORD}
    say("starting agenttrace serve on a fresh data dir")
    async with embedded(log_dir, settings) as target:
        await ingest(target.ingest_url, target.api_key, traces, say)
        await measure(target.ingest_url, sizes, options, say)
    return Result(
        sizes=sizes,
        chromium=chromium_version(),
        built=built,
        bundle_bytes=bundle_bytes(),
        load_average=(start_load, os.getloadavg()[0]),
    )


# --- the report ---------------------------------------------------------------------------


def _p(values: Sequence[float], q: float) -> float | None:
    return None if not values else percentile(values, q)


def rows(result: Result, options: Options) -> list[dict[str, Any]]:
    floor = next((s for s in result.sizes if s.spans == FLOOR_SPANS), None)
    floor_p50 = _p([r.mark_ms for r in floor.runs], 0.5) if floor else None
    table = []
    for size in result.sizes:
        marks = [r.mark_ms for r in size.runs]
        p50 = _p(marks, 0.5)
        queries = [r.answered_ms - r.sent_ms for r in size.runs if r.sent_ms and r.answered_ms]
        renders = [r.mark_ms - r.answered_ms for r in size.runs if r.answered_ms]
        sent = [r.sent_ms for r in size.runs if r.sent_ms]
        table.append(
            {
                "trace": f"{size.spans:,} spans" + (" (floor)" if size is floor else ""),
                "runs": len(marks),
                "p50 ms": p50,
                "min ms": min(marks, default=None),
                "max ms": max(marks, default=None),
                "first open ms": size.first.mark_ms if size.first else None,
                "app + auth p50 ms": _p(sent, 0.5),
                "outline query p50 ms": _p(queries, 0.5),
                "render p50 ms": _p(renders, 0.5),
                "x floor": None if p50 is None or not floor_p50 else p50 / floor_p50,
                "of budget": None if p50 is None else p50 / options.budget_ms,
                f"every run < {options.budget_ms / 1000:g} s": bool(marks)
                and max(marks) < options.budget_ms,
            }
        )
    return table


def command_line(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "-m", "bench.dashboard_trace"]
    defaults = _parser().parse_args([])
    for name in ("spans", "runs", "warmup", "budget_ms", "timeout"):
        value = getattr(args, name)
        if value != getattr(defaults, name):
            parts += [f"--{name.replace('_', '-')}", str(value)]
    for flag in ("build", "smoke"):
        if getattr(args, flag):
            parts.append(f"--{flag}")
    return " ".join(shlex.quote(p) for p in parts)


def notes(result: Result, options: Options, command: str) -> str:
    largest = max(result.sizes, key=lambda s: s.spans)
    marks = [r.mark_ms for r in largest.runs]
    verdict = (
        f"Every run of the {largest.spans:,}-span trace opened within the"
        f" {options.budget_ms:,.0f} ms budget (slowest {max(marks):,.0f} ms)."
        if marks and max(marks) < options.budget_ms
        else f"**Not every run of the {largest.spans:,}-span trace opened within the"
        f" {options.budget_ms:,.0f} ms budget** (slowest {max(marks, default=0):,.0f} ms)."
    )
    lines = [
        f"{verdict} Time = from navigation start to the page's `performance.mark("
        f'"{MARK}")`, which the trace view sets in the first animation frame after its'
        " first tree items (role `treeitem`) and waterfall bars are in the DOM (the bench"
        " checks they are there, as many bars as tree items, the root span first). Each"
        " run is a full page load of `/traces/<id>` in a signed-in tab: the app's bundle"
        f" ({result.bundle_bytes / 1e6:.2f} MB of JavaScript, from the HTTP cache after"
        " the first load), the session resumed with its refresh token, the projects query,"
        " then the trace's outline query (`Trace.spanOutline`: every span's ids, parent,"
        " depth, name, kind, status, times, duration, model, tokens and cost as one JSON"
        " value), the tree built in the browser and ~40 virtualised rows drawn.",
        "",
        "**app + auth** = navigation start to the outline request's start (bundle, session,"
        " projects); **outline query** = that request, sent to answered (server and"
        " transfer); **render** = answered to the mark (JSON parse, tree, first paint)."
        " **first open** = the first, unmeasured navigation to that trace (the app's code"
        f" not yet cached by the browser); then {options.runs} measured runs per trace,"
        " interleaved across the traces, each after a blank page (which ends the previous"
        " view's live subscription). **x floor** = p50 over the 10-span trace's p50, the"
        " cost of opening any trace; **of budget** = p50 over"
        f" {options.budget_ms:,.0f} ms.",
        "",
        "Traces from bench/workload.py (`spans_per_trace` = the size: agents fanning out"
        " to sub-agents, 6-9 levels deep, ~5% failed spans), ingested through"
        f" `POST /api/v1/traces` in batches of {POST_SPANS:,} spans into `agenttrace serve`"
        " on a fresh `--data-dir` (embedded PostgreSQL), all stored before the first"
        f" navigation. Chromium {result.chromium or '?'} headless (`{CHROMIUM}"
        f" {' '.join(CHROMIUM_ARGS)}`) through Playwright, viewport"
        f" {VIEWPORT['width']}x{VIEWPORT['height']}, on the same machine as the server and"
        " its PostgreSQL. Dashboard: dashboard/dist"
        + (" built by this run" if result.built else " as built before the run")
        + f". 1-minute load average {result.load_average[0]:.1f} at the start,"
        f" {result.load_average[1]:.1f} at the end.",
        "",
        "```bash",
        command,
        "```",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboard_trace",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--spans",
        default=",".join(map(str, DEFAULTS.sizes)),
        help="trace sizes in spans, comma-separated (default 1000,10000; a 10-span floor is added)",
    )
    parser.add_argument(
        "--runs", type=int, help=f"measured runs per trace (default {DEFAULTS.runs})"
    )
    parser.add_argument(
        "--warmup", type=int, help=f"unmeasured runs per trace (default {DEFAULTS.warmup})"
    )
    parser.add_argument("--budget-ms", type=float, default=DEFAULTS.budget_ms)
    parser.add_argument("--timeout", type=float, help="seconds a run may take (default 60)")
    parser.add_argument("--build", action="store_true", help="build dashboard/dist first")
    parser.add_argument("--smoke", action="store_true", help="a tiny run; implies --no-write")
    parser.add_argument("--log-dir", help="keep the server's log here (default: deleted)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser


def options_of(args: argparse.Namespace) -> Options:
    base = SMOKE if args.smoke else DEFAULTS
    if args.smoke and args.spans == ",".join(map(str, DEFAULTS.sizes)):
        sizes = base.sizes
    else:
        try:
            sizes = tuple(int(s) for s in str(args.spans).split(",") if s.strip())
        except ValueError:
            raise SystemExit("error: --spans takes whole numbers") from None
    options = Options(
        sizes=sizes,
        runs=base.runs if args.runs is None else args.runs,
        warmup=base.warmup if args.warmup is None else args.warmup,
        budget_ms=args.budget_ms,
        timeout_s=base.timeout_s if args.timeout is None else args.timeout,
        build=args.build,
    )
    if not sizes or any(s < 1 for s in sizes) or FLOOR_SPANS in sizes:
        raise SystemExit(
            f"error: --spans needs positive sizes other than the {FLOOR_SPANS}-span floor"
        )
    if options.runs < 1 or options.warmup < 1 or options.timeout_s <= 0 or options.budget_ms <= 0:
        raise SystemExit("error: --runs, --warmup, --timeout and --budget-ms must be positive")
    return options


async def _main(args: argparse.Namespace, options: Options, log_dir: Path) -> None:
    result = await run(options, log_dir=log_dir)
    table = rows(result, options)
    print(markdown_table(table))
    if not (args.no_write or args.smoke):
        path = write_section(
            SECTION,
            table,
            notes(result, options, command_line(args)),
            versions={"Kafka": None, "Chromium": result.chromium},
        )
        print(f"wrote the {SECTION!r} section of {path.relative_to(ROOT)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    options = options_of(args)
    with log_directory(args.log_dir, "dashboard") as log_dir:
        asyncio.run(_main(args, options, log_dir))


if __name__ == "__main__":
    main()
