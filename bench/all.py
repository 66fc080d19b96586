"""Every benchmark, one after another: ``make bench``.

    python -m bench.all                 # the whole suite; rewrites docs/benchmarks.md
    python -m bench.all --only ingest,live
    python -m bench.all --skip phoenix --no-write
    python -m bench.all --list          # the plan and each step's time budget

Runs each bench module as its own process (so one crash or leak cannot skew the next),
strictly one at a time: they share the machine's CPUs, and two at once would measure each
other. Each step's arguments are its full-size run trimmed to fit the suite's budget of
15 minutes on a 2-core machine; a step may run over its own budget (it is a guide, printed
beside the time taken), and a failed step does not stop the others: the exit status is 1
if any failed. ``make bench-smoke`` (every bench at tiny sizes, ``pytest tests/bench``) is
what CI runs so that none of them rots.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE_BUDGET_S = 15 * 60


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    """The module under bench/ (``python -m bench.<name>``)."""
    args: tuple[str, ...]
    budget_s: int
    figure: str
    """What it measures, for the plan."""

    def argv(self, no_write: bool) -> list[str]:
        return [
            sys.executable,
            "-m",
            f"bench.{self.name}",
            *self.args,
            *(("--no-write",) if no_write else ()),
        ]


PLAN: tuple[Step, ...] = (
    Step("sdk_overhead", ("--rounds", "10"), 25, "SDK: per-span overhead against OpenTelemetry"),
    Step("ingest", ("--duration", "3"), 90, "Ingest: spans/s into Kafka against a no-op"),
    Step("store", ("--spans", "100000"), 50, "Store: one worker's spans/s against a raw COPY"),
    Step("live", ("--traces", "200"), 100, "Live: send to subscriber, embedded and distributed"),
    Step("queryable", (), 150, "Ingest to queryable: 20,000 and 200,000 spans"),
    Step("storage", ("--shapes", "otlp"), 100, "Storage: bytes per trace of 1M OTLP spans"),
    Step("graphql", ("--duration", "2"), 170, "Query: GraphQL and REST over 1M spans"),
    Step("rollups", ("--spans", "200000"), 50, "Analytics rollups against the raw rows"),
    Step("dashboard_trace", (), 45, "Dashboard: opening 10 to 10,000-span traces"),
    Step("phoenix", ("--spans", "10000"), 120, "Arize Phoenix side by side"),
)


def select(only: str | None, skip: str | None) -> list[Step]:
    names = {step.name for step in PLAN}
    wanted = {n.strip() for n in (only or "").split(",") if n.strip()}
    unwanted = {n.strip() for n in (skip or "").split(",") if n.strip()}
    unknown = (wanted | unwanted) - names
    if unknown:
        raise SystemExit(
            f"error: no bench step {', '.join(sorted(unknown))}; the steps are:"
            f" {', '.join(step.name for step in PLAN)}"
        )
    return [s for s in PLAN if (not wanted or s.name in wanted) and s.name not in unwanted]


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def run(steps: list[Step], no_write: bool) -> int:
    """Runs the steps in order; returns how many failed."""
    results: list[tuple[Step, float, int]] = []
    started = time.monotonic()
    planned = sum(step.budget_s for step in steps)
    print(f"==> {len(steps)} benchmarks, about {_clock(planned)} planned", file=sys.stderr)
    for number, step in enumerate(steps, start=1):
        argv = step.argv(no_write)
        print(
            f"\n==> [{number}/{len(steps)}] {step.figure}"
            f" (budget {step.budget_s} s; {_clock(time.monotonic() - started)} so far)\n"
            f"    {shlex.join(['python', *argv[1:]])}",
            file=sys.stderr,
            flush=True,
        )
        step_started = time.monotonic()
        code = subprocess.run(argv, cwd=ROOT, env=os.environ.copy(), check=False).returncode
        took = time.monotonic() - step_started
        results.append((step, took, code))
        verdict = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"==> {step.name}: {verdict} in {took:.0f} s", file=sys.stderr, flush=True)

    total = time.monotonic() - started
    print("\n| step | seconds | budget | result |\n| --- | --- | --- | --- |", file=sys.stderr)
    for step, took, code in results:
        result = "ok" if code == 0 else f"exit {code}"
        print(f"| {step.name} | {took:.0f} | {step.budget_s} | {result} |", file=sys.stderr)
    over = " (over the suite's 15-minute budget)" if total > SUITE_BUDGET_S else ""
    print(f"\n==> all benchmarks took {_clock(total)}{over}", file=sys.stderr)
    if not no_write:
        print("==> docs/benchmarks.md and docs/plots/ were rewritten", file=sys.stderr)
    return sum(1 for _, _, code in results if code != 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.all",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", help="comma-separated steps to run (default: all)")
    parser.add_argument("--skip", help="comma-separated steps to leave out")
    parser.add_argument("--list", action="store_true", help="print the plan and exit")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    steps = select(args.only, args.skip)
    if args.list:
        for step in steps:
            command = shlex.join(["python", *step.argv(args.no_write)[1:]])
            print(f"{step.name:16} {step.budget_s:4d} s  {step.figure}\n{'':22}{command}")
        print(f"{'total':16} {sum(s.budget_s for s in steps):4d} s")
        return
    failed = run(steps, args.no_write)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
