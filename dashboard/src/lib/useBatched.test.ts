import { Batcher } from "./useBatched";

describe("Batcher", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("hands a burst over in a few batches, at most one per interval", () => {
    const batches: number[][] = [];
    let clock = 0;
    const batcher = new Batcher<number>((items) => batches.push(items), 250, () => clock);
    // 1,000 items over one second: one every millisecond.
    for (let i = 0; i < 1000; i++) {
      batcher.push(i);
      clock += 1;
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(1000);
    expect(batches.flat()).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(batches.length).toBeLessThanOrEqual(6);
    expect(batches[0]!.length).toBeLessThan(20); // the first comes soon after a quiet spell
  });

  it("drops what is queued when cancelled", () => {
    const batches: string[][] = [];
    const batcher = new Batcher<string>((items) => batches.push(items), 250);
    batcher.push("a");
    batcher.cancel();
    vi.advanceTimersByTime(1000);
    expect(batches).toEqual([]);
    batcher.push("b");
    vi.advanceTimersByTime(1000);
    expect(batches).toEqual([["b"]]);
  });
});
