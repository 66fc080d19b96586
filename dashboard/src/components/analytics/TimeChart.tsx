// One time-series chart in a card: a region named after it (the browser tests find the
// charts by these names), a headline figure, and lines or stacked bars over the buckets.
import type { ReactNode } from "react";
import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  Tooltip,
  XAxis,
  YAxis,
  type DotItemDotProps,
} from "recharts";
import type { TimeBucket } from "../../gql/graphql";
import { bucketLabel, tickLabel, timeTicks, type RangeKey } from "./range";
import type { Point } from "./series";
import type { ThemeColors } from "./useThemeColors";

export interface Series {
  key: Exclude<keyof Point, "t">;
  name: string;
  color: string;
  type: "line" | "bar";
  /** Bars with the same stack id are stacked. */
  stack?: string;
  dashed?: boolean;
}

interface Props {
  title: string;
  headline?: ReactNode;
  points: Point[];
  series: Series[];
  bucket: TimeBucket;
  range: RangeKey;
  colors: ThemeColors;
  format: (value: number) => string;
  axisFormat?: (value: number) => string;
  /** The left axis's largest possible top (e.g. 1 for rates). */
  maxY?: number;
  /** Twice as wide as the others where there is room. */
  wide?: boolean;
  /** Counts: no fractional ticks. */
  integer?: boolean;
}

export function TimeChart(props: Props) {
  const { title, headline, points, series, bucket, range, colors, format } = props;
  const axisFormat = props.axisFormat ?? format;
  const maxY = props.maxY;
  // A rate's axis: a round top, ticks at its quarters.
  const top =
    maxY === undefined
      ? undefined
      : niceCeiling(Math.max(0, ...series.flatMap((s) => points.map((p) => p[s.key] ?? 0))), maxY);
  const values = Object.fromEntries(series.map((s) => [s.key, points.map((p) => p[s.key])])) as Record<
    Series["key"],
    (number | null)[]
  >;
  const axisStyle = { fill: colors.muted, fontSize: 11.5 };
  return (
    <section className={props.wide ? "card analytics-chart wide" : "card analytics-chart"} aria-label={title}>
      <header>
        <h2>{title}</h2>
        {headline !== undefined && <span className="analytics-headline">{headline}</span>}
      </header>
      <ComposedChart
        responsive
        style={{ width: "100%", height: 220 }}
        data={points}
        margin={{ top: 6, right: 12, bottom: 0, left: 0 }}
        barCategoryGap="12%"
      >
        <CartesianGrid stroke={colors.border} strokeDasharray="3 3" vertical={false} />
        <XAxis
          dataKey="t"
          type="category"
          ticks={timeTicks(points.map((p) => p.t), range)}
          interval="equidistantPreserveStart"
          tickFormatter={(value: number) => tickLabel(value, bucket, range)}
          stroke={colors.border}
          tick={axisStyle}
          minTickGap={8}
        />
        <YAxis
          yAxisId="left"
          width={56}
          domain={top === undefined ? [0, "auto"] : [0, top]}
          ticks={top === undefined ? undefined : [0, top / 4, top / 2, (3 * top) / 4, top]}
          tickFormatter={(value: number) => axisFormat(value)}
          stroke={colors.border}
          tick={axisStyle}
          allowDecimals={!props.integer}
        />
        <Tooltip
          labelFormatter={(label) => bucketLabel(Number(label), bucket)}
          formatter={(value, name) => [value === null || value === undefined ? "–" : format(Number(value)), name]}
          contentStyle={{
            background: colors.panel,
            border: `1px solid ${colors.border}`,
            borderRadius: 6,
            color: colors.text,
          }}
          labelStyle={{ color: colors.text, fontWeight: 600 }}
          cursor={{ stroke: colors.muted, fill: colors.border, fillOpacity: 0.4 }}
        />
        {series.length > 1 && <Legend wrapperStyle={{ color: colors.muted, fontSize: 12 }} />}
        {series.map((s) =>
          s.type === "bar" ? (
            <Bar
              key={s.key}
              dataKey={s.key}
              name={s.name}
              yAxisId="left"
              fill={s.color}
              stackId={s.stack}
              isAnimationActive={false}
            />
          ) : (
            <Line
              key={s.key}
              dataKey={s.key}
              name={s.name}
              yAxisId="left"
              stroke={s.color}
              strokeWidth={2}
              strokeDasharray={s.dashed ? "5 3" : undefined}
              dot={(dot: DotItemDotProps) => (
                <LoneDot
                  key={dot.key ?? `${s.key}-${dot.index}`}
                  cx={dot.cx}
                  cy={dot.cy}
                  index={dot.index}
                  color={s.color}
                  values={values[s.key]}
                />
              )}
              activeDot={{ r: 4 }}
              type="monotone"
              connectNulls={false}
              isAnimationActive={false}
            />
          ),
        )}
      </ComposedChart>
    </section>
  );
}

const NICE_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1];

/** A round top for a rate axis: the smallest nice fraction of `max` above `top`. */
export function niceCeiling(top: number, max: number): number {
  const wanted = top / max;
  const step = NICE_STEPS.find((s) => s >= wanted - 1e-9) ?? 1;
  return step * max;
}

interface DotProps {
  cx?: number | string;
  cy?: number | string;
  index: number;
}

/** A line's point drawn only where the line cannot show it: a bucket with a value
 * between two without (a lone bucket would otherwise be invisible). */
function LoneDot({ cx, cy, index, color, values }: DotProps & { color: string; values: (number | null)[] }) {
  if (typeof cx !== "number" || typeof cy !== "number" || values[index] == null) return <g />;
  const before = values[index - 1] ?? null;
  const after = values[index + 1] ?? null;
  if (before !== null || after !== null) return <g />;
  return <circle cx={cx} cy={cy} r={2.5} fill={color} stroke="none" />;
}
