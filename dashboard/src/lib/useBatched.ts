// Collects items pushed at any rate (live events) and hands them over in batches, at
// most one batch per `intervalMs`: a burst of hundreds per second costs a few renders.
import { useCallback, useEffect, useRef } from "react";

/** The smallest wait: items pushed in the same tick or frame share a batch. */
const COALESCE_MS = 16;

export class Batcher<T> {
  private queue: T[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last = -Infinity;

  constructor(
    private readonly flush: (items: T[]) => void,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(item: T): void {
    this.queue.push(item);
    if (this.timer !== undefined) return;
    const wait = Math.max(COALESCE_MS, this.last + this.intervalMs - this.now());
    this.timer = setTimeout(() => this.run(), wait);
  }

  private run(): void {
    this.timer = undefined;
    this.last = this.now();
    const items = this.queue;
    this.queue = [];
    if (items.length > 0) this.flush(items);
  }

  /** Drops what is queued (the view went away or started over). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }
}

/**
 * `push` queues an item; `flush` gets everything queued since the last batch, at most
 * once per `intervalMs` (the first soon after a quiet spell). The latest `flush` is used.
 */
export function useBatched<T>(flush: (items: T[]) => void, intervalMs = 250): (item: T) => void {
  const flushRef = useRef(flush);
  flushRef.current = flush;
  const batcher = useRef<Batcher<T> | null>(null);
  batcher.current ??= new Batcher<T>((items) => flushRef.current(items), intervalMs);
  useEffect(() => {
    const current = batcher.current;
    return () => current?.cancel();
  }, []);
  return useCallback((item: T) => batcher.current?.push(item), []);
}

/** Calls `fn` at most once per `intervalMs`, soon after the first call, and once more
 * after the last call of a run (trailing), never more often. */
export function useThrottled(fn: () => void, intervalMs: number): () => void {
  const push = useBatched<null>(() => fn(), intervalMs);
  return useCallback(() => push(null), [push]);
}
