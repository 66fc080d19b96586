// The time range's spans grouped by model, kind or name: a bar chart of one measure and
// a table of all of them.
import { Bar, BarChart, CartesianGrid, Cell, Tooltip, XAxis, YAxis } from "recharts";
import { formatCost, formatDuration, formatNumber, formatPercent } from "../../lib/format";
import { GROUPS, MEASURES, compactNumber, type GroupKey, type MeasureKey } from "./range";
import { groupBars, type GroupIn } from "./series";
import { kindColor, type ThemeColors } from "./useThemeColors";

export function formatMeasure(measure: MeasureKey, value: number): string {
  switch (measure) {
    case "spans":
    case "tokens":
      return formatNumber(value);
    case "errorRate":
      return formatPercent(value);
    case "p95":
      return formatDuration(value);
    case "cost":
      return formatCost(value);
  }
}

function axisMeasure(measure: MeasureKey, value: number): string {
  if (measure === "spans" || measure === "tokens") return compactNumber(value);
  return formatMeasure(measure, value);
}

interface Props {
  group: Exclude<GroupKey, "none">;
  groups: readonly GroupIn[];
  measure: MeasureKey;
  onMeasure(measure: MeasureKey): void;
  colors: ThemeColors;
}

export function GroupsView({ group, groups, measure, onMeasure, colors }: Props) {
  const title = `By ${GROUPS[group].label.toLowerCase()}`;
  const bars = groupBars(groups, measure);
  const colorOf = (key: string) => (group === "kind" ? kindColor(colors, key) : colors.accent);
  const axisStyle = { fill: colors.muted, fontSize: 11.5 };
  return (
    <section className="card analytics-groups" aria-label={title}>
      <header>
        <h2>{title}</h2>
        <div className="analytics-control">
          <label htmlFor="analytics-measure">Measure</label>
          <select
            id="analytics-measure"
            value={measure}
            onChange={(event) => onMeasure(event.target.value as MeasureKey)}
          >
            {Object.entries(MEASURES).map(([key, label]) => (
              <option key={key} value={key}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </header>
      {groups.length === 0 ? (
        <p className="analytics-note">
          {group === "model" ? "No model calls in this time range." : "No spans in this time range."}
        </p>
      ) : (
        <>
          {bars.length > 0 && (
            <BarChart
              responsive
              style={{ width: "100%", height: Math.min(40 + bars.length * 26, 560) }}
              data={bars}
              layout="vertical"
              margin={{ top: 4, right: 16, bottom: 0, left: 0 }}
              barCategoryGap={4}
            >
              <CartesianGrid stroke={colors.border} strokeDasharray="3 3" horizontal={false} />
              <XAxis
                type="number"
                tickFormatter={(value: number) => axisMeasure(measure, value)}
                stroke={colors.border}
                tick={axisStyle}
              />
              <YAxis
                type="category"
                dataKey="key"
                width={170}
                interval={0}
                tickFormatter={(value: string) => (value.length > 24 ? `${value.slice(0, 23)}…` : value)}
                stroke={colors.border}
                tick={axisStyle}
              />
              <Tooltip
                formatter={(value) => [formatMeasure(measure, Number(value)), MEASURES[measure]]}
                contentStyle={{
                  background: colors.panel,
                  border: `1px solid ${colors.border}`,
                  borderRadius: 6,
                  color: colors.text,
                }}
                labelStyle={{ color: colors.text, fontWeight: 600 }}
                cursor={{ fill: colors.border, fillOpacity: 0.4 }}
              />
              <Bar dataKey="value" name={MEASURES[measure]} isAnimationActive={false}>
                {bars.map((bar) => (
                  <Cell key={bar.key} fill={colorOf(bar.key)} />
                ))}
              </Bar>
            </BarChart>
          )}
          <div className="analytics-table">
            <table className="grid" aria-label={`Groups by ${GROUPS[group].label.toLowerCase()}`}>
              <thead>
                <tr>
                  <th scope="col">{GROUPS[group].label}</th>
                  <th scope="col" className="num">Spans</th>
                  <th scope="col" className="num">Errors</th>
                  <th scope="col" className="num">Error rate</th>
                  <th scope="col" className="num">p50</th>
                  <th scope="col" className="num">p95</th>
                  <th scope="col" className="num">p99</th>
                  <th scope="col" className="num">Tokens</th>
                  <th scope="col" className="num">Cost</th>
                </tr>
              </thead>
              <tbody>
                {groups.map((g) => (
                  <tr key={g.key}>
                    <th scope="row">
                      {group === "kind" ? <span className={`kind-badge kind-${g.key}`}>{g.key}</span> : g.key}
                    </th>
                    <td className="num">{formatNumber(g.spanCount)}</td>
                    <td className="num">{formatNumber(g.errorCount)}</td>
                    <td className="num">{formatPercent(g.errorRate) || "–"}</td>
                    <td className="num">{g.spanLatencyP50Ms != null ? formatDuration(g.spanLatencyP50Ms) : "–"}</td>
                    <td className="num">{g.spanLatencyP95Ms != null ? formatDuration(g.spanLatencyP95Ms) : "–"}</td>
                    <td className="num">{g.spanLatencyP99Ms != null ? formatDuration(g.spanLatencyP99Ms) : "–"}</td>
                    <td className="num">{formatNumber(g.totalTokens)}</td>
                    <td className="num">{formatCost(g.cost)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
