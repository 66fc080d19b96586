// /analytics: volume, error rate, latency, tokens and cost over a time range, optionally
// grouped by model, kind or span name; one query per view, state in the URL.
import { useCallback, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { useQuery } from "urql";
import { GroupsView } from "../components/analytics/GroupsView";
import {
  GROUPS,
  RANGES,
  compactNumber,
  searchFromState,
  stateFromSearch,
  timeWindow,
  type AnalyticsState,
  type GroupKey,
  type RangeKey,
} from "../components/analytics/range";
import { toPoints } from "../components/analytics/series";
import { TimeChart } from "../components/analytics/TimeChart";
import { useThemeColors } from "../components/analytics/useThemeColors";
import "../components/analytics/analytics.css";
import { useProject } from "../components/ProjectContext";
import { graphql } from "../gql";
import { formatCost, formatDuration, formatNumber, formatPercent } from "../lib/format";

const AnalyticsQuery = graphql(`
  query AnalyticsView(
    $project: ID!
    $timeRange: TimeRangeInput!
    $bucket: TimeBucket!
    $by: AnalyticsGroupBy!
    $grouped: Boolean!
  ) {
    project(id: $project) {
      id
      analytics(timeRange: $timeRange, bucket: $bucket) {
        bucket
        totals {
          traceCount
          errorTraceCount
          traceErrorRate
          spanCount
          errorSpanCount
          errorRate
          traceLatencyP50Ms
          traceLatencyP95Ms
          traceLatencyP99Ms
          inputTokens
          outputTokens
          totalTokens
          cost
        }
        buckets {
          start
          traceCount
          traceErrorRate
          spanCount
          errorRate
          traceLatencyP50Ms
          traceLatencyP95Ms
          traceLatencyP99Ms
          inputTokens
          outputTokens
          totalTokens
          cost
        }
        groups(by: $by, limit: 20) @include(if: $grouped) {
          key
          spanCount
          errorCount
          errorRate
          spanLatencyP50Ms
          spanLatencyP95Ms
          spanLatencyP99Ms
          totalTokens
          cost
        }
      }
    }
  }
`);

const ms = (value: number) => formatDuration(value);
/** A duration on an axis: round, short. */
function axisDuration(value: number): string {
  if (value === 0) return "0";
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${Number((value / 1000).toFixed(1))} s`;
  return `${Number((value / 60_000).toFixed(1))} min`;
}
const percent = (value: number) => formatPercent(value);
const axisCost = (value: number) => (value === 0 ? "$0" : `$${Number(value.toPrecision(3))}`);
const axisPercent = (value: number) => `${Number((value * 100).toFixed(1))}%`;

export function AnalyticsPage() {
  const { project } = useProject();
  const [search, setSearch] = useSearchParams();
  const state = stateFromSearch(search);
  const update = useCallback(
    (change: Partial<AnalyticsState>) =>
      setSearch((current) => searchFromState({ ...stateFromSearch(current), ...change }, current), {
        replace: true,
      }),
    [setSearch],
  );
  // The window ends now (to the minute) when the range is chosen or refreshed.
  const [asOf, setAsOf] = useState(() => Date.now());
  const span = useMemo(() => timeWindow(state.range, asOf), [state.range, asOf]);
  const by = GROUPS[state.group].by;
  const [result, reexecute] = useQuery({
    query: AnalyticsQuery,
    variables: {
      project: project?.id ?? "",
      timeRange: { start: span.start, end: span.end },
      bucket: span.bucket,
      by: by ?? "MODEL",
      grouped: by !== null,
    },
    pause: !project,
  });
  const colors = useThemeColors();

  if (!project) {
    return (
      <div className="empty">
        No project to show yet: see <Link to="/projects">Projects</Link>.
      </div>
    );
  }

  const analytics = result.data?.project?.analytics;
  const points = analytics ? toPoints(analytics.buckets) : [];
  const totals = analytics?.totals;
  const bucket = analytics?.bucket ?? span.bucket;
  const chart = { points, bucket, range: state.range, colors };

  return (
    <div className="analytics">
      <div className="analytics-toolbar">
        <h1>Analytics</h1>
        <div className="analytics-control">
          <label htmlFor="analytics-range">Time range</label>
          <select
            id="analytics-range"
            value={state.range}
            onChange={(event) => {
              setAsOf(Date.now());
              update({ range: event.target.value as RangeKey });
            }}
          >
            {Object.entries(RANGES).map(([key, range]) => (
              <option key={key} value={key}>
                {range.label}
              </option>
            ))}
          </select>
        </div>
        <div className="analytics-control">
          <label htmlFor="analytics-group">Group by</label>
          <select
            id="analytics-group"
            value={state.group}
            onChange={(event) => update({ group: event.target.value as GroupKey })}
          >
            {Object.entries(GROUPS).map(([key, group]) => (
              <option key={key} value={key}>
                {group.label}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="ghost"
          onClick={() => {
            const now = Date.now();
            // Within the same minute the variables do not change: ask the server again.
            if (timeWindow(state.range, now).end === span.end) reexecute({ requestPolicy: "network-only" });
            else setAsOf(now);
          }}
          disabled={result.fetching}
        >
          Refresh
        </button>
        <span className="analytics-status" aria-live="polite">
          {result.fetching ? "Loading…" : `${bucketWord(bucket)} buckets`}
        </span>
      </div>

      {result.error && (
        <p className="error" role="alert">
          {result.error.message.replace(/^\[(GraphQL|Network)\] /, "")}
        </p>
      )}

      {totals && (
        <dl className="analytics-totals card" aria-label="Totals">
          <div>
            <dt>Traces</dt>
            <dd>{formatNumber(totals.traceCount)}</dd>
          </div>
          <div>
            <dt>Spans</dt>
            <dd>{formatNumber(totals.spanCount)}</dd>
          </div>
          <div>
            <dt>Error rate</dt>
            <dd className={totals.errorTraceCount > 0 ? "status-ERROR" : undefined}>
              {formatPercent(totals.traceErrorRate) || "–"}
            </dd>
          </div>
          <div>
            <dt>p95 latency</dt>
            <dd>{totals.traceLatencyP95Ms != null ? formatDuration(totals.traceLatencyP95Ms) : "–"}</dd>
          </div>
          <div>
            <dt>Tokens</dt>
            <dd>{formatNumber(totals.totalTokens)}</dd>
          </div>
          <div>
            <dt>Cost</dt>
            <dd>{formatCost(totals.cost)}</dd>
          </div>
        </dl>
      )}
      {totals && totals.traceCount === 0 && totals.spanCount === 0 && (
        <p className="analytics-note">
          No traces in this time range. Send some with an API key from the <Link to="/projects">Projects</Link> page,
          or pick a longer range.
        </p>
      )}

      <div className="analytics-grid">
        <TimeChart
          wide
          title="Volume"
          headline={totals && `${formatNumber(totals.traceCount)} traces · ${formatNumber(totals.spanCount)} spans`}
          series={[
            { key: "traces", name: "Traces", color: colors.accent, type: "bar" },
            { key: "spans", name: "Spans", color: colors.warn, type: "line" },
          ]}
          format={formatNumber}
          axisFormat={compactNumber}
          integer
          {...chart}
        />
        <TimeChart
          title="Error rate"
          headline={
            totals &&
            `${formatPercent(totals.traceErrorRate) || "–"} of traces · ${formatPercent(totals.errorRate) || "–"} of spans`
          }
          series={[
            { key: "traceErrorRate", name: "Traces with an error", color: colors.error, type: "line" },
            { key: "spanErrorRate", name: "Failed spans", color: colors.warn, type: "line", dashed: true },
          ]}
          format={percent}
          axisFormat={axisPercent}
          maxY={1}
          {...chart}
        />
        <TimeChart
          title="Latency"
          headline={
            totals &&
            (totals.traceLatencyP50Ms != null
              ? `p50 ${ms(totals.traceLatencyP50Ms)} · p95 ${ms(totals.traceLatencyP95Ms ?? 0)} · p99 ${ms(totals.traceLatencyP99Ms ?? 0)}`
              : "no finished traces")
          }
          series={[
            { key: "p50", name: "p50", color: colors.ok, type: "line" },
            { key: "p95", name: "p95", color: colors.accent, type: "line" },
            { key: "p99", name: "p99", color: colors.error, type: "line", dashed: true },
          ]}
          format={ms}
          axisFormat={axisDuration}
          {...chart}
        />
        <TimeChart
          title="Tokens"
          headline={
            totals &&
            `${formatNumber(totals.totalTokens)} (${compactNumber(totals.inputTokens)} in · ${compactNumber(totals.outputTokens)} out)`
          }
          series={[
            { key: "inputTokens", name: "Input", color: colors["kind-llm"], type: "bar", stack: "tokens" },
            { key: "outputTokens", name: "Output", color: colors["kind-agent"], type: "bar", stack: "tokens" },
            ...(points.some((p) => p.otherTokens > 0)
              ? [{ key: "otherTokens", name: "Total only", color: colors["kind-other"], type: "bar", stack: "tokens" } as const]
              : []),
          ]}
          format={formatNumber}
          axisFormat={compactNumber}
          integer
          {...chart}
        />
        <TimeChart
          title="Cost"
          headline={totals && formatCost(totals.cost)}
          series={[{ key: "cost", name: "Cost", color: colors.ok, type: "bar" }]}
          format={formatCost}
          axisFormat={axisCost}
          {...chart}
        />
      </div>

      {state.group !== "none" && (
        <GroupsView
          group={state.group}
          groups={analytics?.groups ?? []}
          measure={state.measure}
          onMeasure={(measure) => update({ measure })}
          colors={colors}
        />
      )}
    </div>
  );
}

function bucketWord(bucket: string): string {
  return { MINUTE: "1-minute", HOUR: "1-hour", DAY: "1-day (UTC)" }[bucket] ?? bucket;
}
