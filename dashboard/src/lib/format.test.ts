import { formatCost, formatDuration, formatPercent } from "./format";

describe("formatDuration", () => {
  it("says a span without an end is running", () => {
    expect(formatDuration(null)).toBe("running");
  });
  it("picks a unit a person reads at a glance", () => {
    expect(formatDuration(0.42)).toBe("0.42 ms");
    expect(formatDuration(250)).toBe("250 ms");
    expect(formatDuration(1500)).toBe("1.50 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
  });
});

describe("formatCost and formatPercent", () => {
  it("keep small amounts visible", () => {
    expect(formatCost(0.00042)).toBe("$0.0004");
    expect(formatCost(1.5)).toBe("$1.50");
    expect(formatPercent(0.034)).toBe("3.4%");
    expect(formatPercent(0.5)).toBe("50%");
  });
});
