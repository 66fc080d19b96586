"""The tables and the method of bench/phoenix.py's section of docs/benchmarks.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench.live import percentile
from bench.phoenix_overload import Overload
from bench.phoenix_servers import AGENTTRACE_TRACE_TABLES, PHOENIX_TRACE_TABLES
from bench.report import markdown_table

if TYPE_CHECKING:
    from bench.phoenix import Ingest, Result, Side

PHOENIX = "Arize Phoenix"
OURS = "AgentTrace"
MIB = 2**20


def _row(
    figure: str, phoenix: float | None, ours: float | None, target: float | None, higher: bool
) -> dict[str, Any]:
    """One figure beside its peer; ratio = ours / Phoenix's; met against the target ratio
    (at least it when ``higher``, at most it otherwise)."""
    ratio = None if phoenix is None or ours is None or phoenix == 0 else ours / phoenix
    met = None
    if target is not None and ratio is not None:
        met = ratio >= target if higher else ratio <= target
    return {
        "figure": figure,
        PHOENIX: phoenix,
        OURS: ours,
        "AgentTrace / Phoenix": ratio,
        "target": None if target is None else f"{'≥' if higher else '≤'} {target:.3g}",
        "met": met,
    }


def _cpu_per_1000(ingest: Ingest) -> float:
    return (ingest.python_cpu_s + ingest.database_cpu_s) / ingest.spans * 1000


def _sides(result: Result) -> tuple[Side, Side]:
    return result.sides[PHOENIX], result.sides[OURS]


def rows(result: Result) -> list[dict[str, Any]]:
    phoenix, ours = _sides(result)
    table = []
    if phoenix.ingest and ours.ingest:
        table.append(
            _row(
                f"ingest to queryable, spans/s ({ours.ingest.spans:,} spans)",
                phoenix.ingest.spans_per_s,
                ours.ingest.spans_per_s,
                50,
                higher=True,
            )
        )
        table.append(
            _row(
                "ingest: server CPU seconds per 1,000 spans (Python + database processes)",
                _cpu_per_1000(phoenix.ingest),
                _cpu_per_1000(ours.ingest),
                None,
                higher=False,
            )
        )
    targets = {"p95": 1 / 5, "p99": 1 / 10}
    seen_figures = dict.fromkeys(figure for figure, _ in result.latencies.ms)
    for figure in seen_figures:
        if figure.startswith("failed"):
            targets = {"p95": 1 / 10}
        for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            table.append(
                _row(
                    f"{figure}, {name} ms",
                    percentile(result.latencies.ms[(figure, PHOENIX)], q),
                    percentile(result.latencies.ms[(figure, OURS)], q),
                    targets.get(name),
                    higher=False,
                )
            )
    if phoenix.storage and ours.storage:
        table.append(
            _row(
                "bytes per trace: trace tables after VACUUM",
                phoenix.storage.trace_tables_bytes / phoenix.traces,
                ours.storage.trace_tables_bytes / ours.traces,
                1 / 3,
                higher=False,
            )
        )
        table.append(
            _row(
                "bytes per trace: whole database's growth after VACUUM",
                phoenix.storage.database_growth_bytes / phoenix.traces,
                ours.storage.database_growth_bytes / ours.traces,
                None,
                higher=False,
            )
        )
    if phoenix.memory and ours.memory:
        table.append(
            _row(
                "server memory: Python processes' RSS, MiB",
                phoenix.memory.rss_kib / 1024,
                ours.memory.rss_kib / 1024,
                1 / 2,
                higher=False,
            )
        )
    if ours.database_memory:
        table.append(
            _row(
                "server memory: PostgreSQL processes' PSS, MiB (SQLite is inside Phoenix)",
                None,
                ours.database_memory.pss_kib / 1024,
                None,
                higher=False,
            )
        )
    return table


def _statuses(overload: Overload) -> str:
    return ", ".join(f"{code}: {n:,}" for code, n in sorted(overload.statuses.items())) or "-"


def overload_rows(result: Result) -> list[dict[str, Any]]:
    table = []
    for side in _sides(result):
        o = side.overload
        if o is None:
            continue
        table.append(
            {
                "server": side.name,
                "offered spans/s": o.offered_rate,
                "spans created": o.created,
                "acknowledged": o.acked,
                "export failed": o.failed,
                "dropped by exporter queues": o.dropped,
                "HTTP answers": _statuses(o),
                "with Retry-After": o.retry_after,
                "exporters finished": f"{o.finished} of {o.clients}",
                "slowest shutdown s": max(o.finish_s) if o.finish_s else None,
                "queryable after": f"{o.queryable:,} ({o.window_s:.1f} s)",
                "stored at stop": o.stored,
                "acknowledged, not stored": o.acked_missing,
                "dropped at stop (server's log)": o.dropped_at_stop,
            }
        )
    return table


def _storage_note(result: Result) -> str:
    phoenix, ours = _sides(result)
    parts = []
    for side in (phoenix, ours):
        if side.storage is None:
            continue
        tables = ", ".join(f"{t} {b / side.traces:,.0f}" for t, b in side.storage.by_table.items())
        parts.append(f"{side.name}: {tables}")
    return "; ".join(parts)


def _verdicts(result: Result) -> list[str]:
    """Which targets this run missed, and what the figures say about the overload."""
    missed = [
        f"{row['figure']} (ratio {row['AgentTrace / Phoenix']:.3g}, target {row['target']})"
        for row in rows(result)
        if row["met"] is False
    ]
    lines = [
        "**Targets not met in this run**: " + "; ".join(missed) + "."
        if missed
        else "**Every target was met in this run.**"
    ]
    ours = result.sides[OURS]
    if ours.ingest and ours.ingest.acked_s > ours.ingest.queryable_s / 2:
        lines.append(
            f"Of AgentTrace's {ours.ingest.queryable_s:.2f} s to queryable,"
            f" {ours.ingest.acked_s:.2f} s went by before every POST was acknowledged: its"
            " ingest path (decode, then commit to the bus), not storage, bounds that figure."
        )
    o = ours.overload
    if o is not None:
        refused = sum(n for code, n in o.statuses.items() if code in ("429", "503"))
        sentence = (
            f"Under overload AgentTrace answered {refused:,} requests with 429/503, lost"
            f" {o.acked_missing:,} acknowledged spans, and {o.finished} of {o.clients}"
            " exporters finished"
        )
        if o.dropped:
            sentence += (
                f"; the exporters' own full queues dropped {o.dropped:,} spans that were never sent"
            )
            if not refused:
                sentence += (
                    ": with no refusal to back off from, each exporter's thread waited on"
                    " slower acknowledgements while its queue overflowed"
                )
        lines.append(sentence + ".")
    p = result.sides[PHOENIX].overload
    if p is not None:
        lines.append(
            f"Arize Phoenix acknowledged {p.acked:,} spans and had {p.acked_missing:,} of them"
            f" not stored when it was stopped {p.window_s:.0f} s after its exporters finished"
            f" (its log: {p.dropped_at_stop or 0:,} spans still pending at shutdown)."
        )
    return lines


def notes(result: Result, command: str) -> str:
    options = result.options
    phoenix, ours = _sides(result)
    lines = [" ".join(_verdicts(result)), ""]
    overload = overload_rows(result)
    if overload:
        lines += [
            "**Overload**, same run, after the other figures:",
            "",
            markdown_table(overload),
            "",
        ]
    lines.append(
        f"Both servers ran at once, each on its defaults, on loopback, started and stopped by"
        f" the bench: Arize Phoenix {result.phoenix_version} (`phoenix serve` from its own venv,"
        f" .venv-phoenix, pinned in bench/phoenix-requirements.txt; SQLite {result.sqlite_version}"
        " in a throwaway PHOENIX_WORKING_DIR, which Phoenix runs with `synchronous = OFF`: no"
        " fsync; no auth; telemetry and internet fetches off) and `agenttrace serve` on a fresh"
        f" `--data-dir` (embedded PostgreSQL, {result.agenttrace_durability}; the in-process bus,"
        " whose 200 means the spans are committed to PostgreSQL). Each figure was measured on"
        " Phoenix, then on AgentTrace, while the other server sat idle; the reads were"
        " interleaved in rounds."
    )
    lines.append("")
    if phoenix.ingest and ours.ingest:
        ingest_parts = [
            f"{side.name} {side.ingest.queryable_s:.2f} s to queryable (every POST acknowledged"
            f" after {side.ingest.acked_s:.2f} s; {side.ingest.refused} refused with 429/503 and"
            f" retried, {side.ingest.retry_after} of them with Retry-After; CPU"
            f" {side.ingest.python_cpu_s:.1f} s in its Python processes"
            f" and {side.ingest.database_cpu_s:.1f} s in its database's)"
            for side in (phoenix, ours)
            if side.ingest
        ]
        lines.append(
            f"**Ingest to queryable**: {options.spans:,} spans in {phoenix.traces:,} default"
            " 10-span traces of bench/workload.py (an AGENT root, 3 LLM calls with ~1 KB"
            " prompts, 4 TOOL and 2 RETRIEVER spans, OpenInference attributes), as OTLP"
            f" protobuf bodies of {options.traces_per_post} traces, POSTed to `/v1/traces`"
            f" (`application/x-protobuf`) by {options.clients} concurrent aiohttp clients; a"
            " 429 or 503 is retried after its Retry-After (0.25 s without one). Time from the"
            " first send until the server's own GraphQL counts every span (polled at intervals of"
            " 1% of the time waited so far, from 50 ms to 1 s, so that the polls cost neither"
            " server much:"
            " Phoenix `projects { recordCount }`, AgentTrace `project { spanCount }`). The"
            " servers' CPU time over the same interval comes from /proc (PostgreSQL backends"
            " that exited in between are missed): on a shared machine it shows the cost of"
            " the work better than the wall-clock rate does. " + "; ".join(ingest_parts) + "."
        )
        lines.append("")
    lines.append(
        "**Reads**: one aiohttp client, one request at a time, GraphQL over HTTP;"
        f" {options.warmup} warm-up requests per figure and server, then {options.requests}"
        f" measured, in {options.rounds} rounds (each round a slice of every figure on each"
        " server in turn). Opening a trace is what each product's UI sends: for Phoenix"
        " `TraceDetailsQuery`, read at run time from the UI bundle of the installed package"
        " (the trace with `spans(first: 1000)` and each span's fields, cost and annotation"
        " summaries, the root span, the project's annotation configs); for AgentTrace the"
        " dashboard's `TraceOutline` (the trace's fields and `spanOutline`, every span in"
        " outline as one JSON value). The 10-span figure opens 200 different traces of the"
        f" load in turn; the 100-span one opens {options.detail_traces} 100-span traces"
        " (sent after the storage figure) in turn. Every answer is checked for its span"
        " count. The failed-trace list is the 50 newest traces with a failed span, the same"
        " rows in each product's GraphQL: Phoenix `spans(first: 50, sort: {col: startTime,"
        ' dir: desc}, filterCondition: "parent_span is None", traceFilterCondition:'
        ' "error_count > 0")` (its traces page lists root spans), AgentTrace'
        " `traces(filter: {status: [ERROR]}, first: 50)`. The queries are in"
        " bench/phoenix_queries.py."
    )
    lines.append("")
    lines.append(
        "**Bytes per trace**: after the ingest load only, every span queryable, divided by"
        f" its {phoenix.traces:,} traces. Trace tables: for Phoenix the pages (SQLite"
        " `dbstat`) of the tables the load fills, with their indexes:"
        f" {', '.join(PHOENIX_TRACE_TABLES)} (span_costs: the cost Phoenix computes for each"
        " LLM span), after `PRAGMA wal_checkpoint(TRUNCATE)` and `VACUUM`; for AgentTrace"
        f" `pg_total_relation_size` (heap, TOAST, indexes) of {', '.join(AGENTTRACE_TRACE_TABLES)}"
        " after `VACUUM`. Whole database's growth: the used pages of Phoenix's SQLite file,"
        " and `pg_database_size` of ours (which includes the embedded bus's table of"
        " messages not yet deleted), less the same measure right after start. By table,"
        f" bytes per trace: {_storage_note(result)}."
    )
    lines.append("")
    memory_parts = []
    for side in (phoenix, ours):
        if side.memory:
            memory_parts.append(
                f"{side.name} {side.memory.processes} Python process(es), RSS"
                f" {side.memory.rss_kib / 1024:,.0f} MiB, PSS {side.memory.pss_kib / 1024:,.0f} MiB"
            )
    if ours.database_memory:
        memory_parts.append(
            f"AgentTrace's PostgreSQL {ours.database_memory.processes} processes, RSS summed"
            f" {ours.database_memory.rss_kib / 1024:,.0f} MiB (shared memory counted in each),"
            f" PSS {ours.database_memory.pss_kib / 1024:,.0f} MiB"
        )
    lines.append(
        "**Server memory**: after the load and the reads, from /proc: RSS summed over the"
        " server's Python processes (`phoenix serve`; `agenttrace serve`), and PSS (shared"
        " pages split between the processes that map them): " + "; ".join(memory_parts) + "."
    )
    lines.append("")
    lines.append(
        f"**Overload**: {options.overload_clients} client processes, each replaying"
        " bench/workload.py traces through the stock OpenTelemetry SDK (TracerProvider,"
        " `BatchSpanProcessor` on its defaults: a queue of 2,048 spans, batches of 512) and"
        " the stock `OTLPSpanExporter` (HTTP/protobuf, 10 s timeout, retries with backoff"
        " on 429/502/503/504 and honours Retry-After) at"
        f" {options.overload_rate:,.0f} spans/s in all for {options.overload_s:g} s, then"
        " `provider.shutdown()`, which exports what is still queued. The exporter is"
        " wrapped to count the spans of each export that returned SUCCESS"
        " (**acknowledged**, with their ids) or FAILURE (**export failed**: its retries"
        " gave up); **dropped by exporter queues** = created, less both: spans the full"
        " queue never sent. **HTTP answers** are counted by a hook on the exporter's"
        " session, retries included. **slowest shutdown** = the longest time a client's"
        " `shutdown()` took to export or give up on its queue. Then the server had"
        f" {options.overload_drain_s:g} s at most to make the acknowledged spans"
        " queryable (until its span count had them all):"
        " **queryable after** = the growth of its span count, and when the wait ended"
        " after the last client exited. Then it was stopped: Phoenix gracefully (SIGTERM;"
        " its shutdown writes what it can of its in-memory queue of spans for 5 s), then"
        " its database file read; AgentTrace's database read just before its stop (an"
        " acknowledged span not stored yet is still in its bus table, committed)."
        " **stored at stop** = span ids in the database that were not there before the"
        " overload; **acknowledged, not stored** = ids the exporter got a success for"
        " that the server does not have; **dropped at stop (server's log)** = the count"
        " in Phoenix's own warning at shutdown, \"Span ingestion stopped with N spans still"
        ' pending" (AgentTrace keeps nothing acknowledged in memory only).'
    )
    lines.append("")
    lines.append(
        f"1-minute load average {result.load_average[0]:.1f} at the start,"
        f" {result.load_average[1]:.1f} at the end; the clients and both servers share the"
        " machine's CPUs."
    )
    lines += ["", "```bash", command, "```"]
    return "\n".join(lines)
