// A trace's flat spans as a tree: depth-first order (children by start time), each span's
// depth, and the rows a tree view shows once some spans are collapsed.
//
// Spans arrive in any order and may be incomplete: a span whose parent has not arrived (or
// never will) is shown at the root, flagged as an orphan, rather than hidden; spans caught
// in a parent cycle (A -> B -> A, or a span that is its own parent) are placed once, the
// earliest of the cycle becoming a root. Everything is iterative: a 10,000-deep chain is fine.

export interface TreeSpan {
  spanId: string;
  parentSpanId?: string | null;
  /** Start time, ms since the epoch (fractions allowed). */
  startMs: number;
}

export interface SpanTree<S extends TreeSpan> {
  /** Every span, depth-first, children by start time (then span id). */
  order: S[];
  /** depth[i] of order[i]; roots are 0. */
  depth: number[];
  /** How many children order[i] has in the tree. */
  childCount: number[];
  /** The row index in `order` of each span. */
  index: Map<string, number>;
  /** The parent each span is drawn under, null for roots. */
  parent: Map<string, string | null>;
  /** Spans with a parent id whose parent is missing (shown at the root). */
  orphans: Set<string>;
  /** Spans made roots to break a parent cycle. */
  cycles: Set<string>;
}

export interface TreeRow<S extends TreeSpan> {
  span: S;
  depth: number;
  hasChildren: boolean;
  expanded: boolean;
  orphan: boolean;
}

function before(a: TreeSpan, b: TreeSpan): number {
  if (a.startMs !== b.startMs) return a.startMs - b.startMs;
  return a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0;
}

/** The tree of `spans` (the last span of an id wins if one appears twice). */
export function buildTree<S extends TreeSpan>(spans: Iterable<S>): SpanTree<S> {
  const byId = new Map<string, S>();
  for (const span of spans) byId.set(span.spanId, span);

  const children = new Map<string, S[]>();
  const roots: S[] = [];
  const orphans = new Set<string>();
  for (const span of byId.values()) {
    const parentId = span.parentSpanId;
    if (parentId && parentId !== span.spanId && byId.has(parentId)) {
      const siblings = children.get(parentId);
      if (siblings) siblings.push(span);
      else children.set(parentId, [span]);
    } else {
      if (parentId && parentId !== span.spanId) orphans.add(span.spanId);
      // A span that is its own parent is in a cycle: placed below, with the others.
      if (parentId !== span.spanId) roots.push(span);
    }
  }
  for (const siblings of children.values()) if (siblings.length > 1) siblings.sort(before);
  roots.sort(before);

  const order: S[] = [];
  const depth: number[] = [];
  const childCount: number[] = [];
  const index = new Map<string, number>();
  const parent = new Map<string, string | null>();
  const cycles = new Set<string>();

  const walk = (top: S) => {
    const stack: [S, number, string | null][] = [[top, 0, null]];
    while (stack.length > 0) {
      const [span, level, up] = stack.pop()!;
      if (index.has(span.spanId)) continue; // a cycle leads back to a placed span
      const row = order.length;
      index.set(span.spanId, row);
      parent.set(span.spanId, up);
      order.push(span);
      depth.push(level);
      childCount.push(0);
      const below = children.get(span.spanId);
      if (!below) continue;
      // Each span is in one parent's list, so it is pushed at most once; only the
      // top of a cycle can already be placed here.
      let placed = 0;
      for (let i = below.length - 1; i >= 0; i--) {
        const child = below[i]!;
        if (index.has(child.spanId)) continue;
        stack.push([child, level + 1, span.spanId]);
        placed++;
      }
      childCount[row] = placed;
    }
  };

  for (const root of roots) walk(root);
  if (order.length < byId.size) {
    // What is left hangs off a cycle: its earliest span becomes a root, and so on.
    const rest = [...byId.values()].filter((s) => !index.has(s.spanId)).sort(before);
    for (const span of rest) {
      if (index.has(span.spanId)) continue;
      cycles.add(span.spanId);
      walk(span);
    }
  }
  return { order, depth, childCount, index, parent, orphans, cycles };
}

/** The rows shown when the spans in `collapsed` have their children hidden. */
export function visibleRows<S extends TreeSpan>(
  tree: SpanTree<S>,
  collapsed: ReadonlySet<string>,
): TreeRow<S>[] {
  const rows: TreeRow<S>[] = [];
  let hiddenBelow = Infinity; // rows deeper than this are inside a collapsed span
  for (let i = 0; i < tree.order.length; i++) {
    const level = tree.depth[i]!;
    if (level > hiddenBelow) continue;
    hiddenBelow = Infinity;
    const span = tree.order[i]!;
    const hasChildren = tree.childCount[i]! > 0;
    const expanded = hasChildren && !collapsed.has(span.spanId);
    if (hasChildren && !expanded) hiddenBelow = level;
    rows.push({ span, depth: level, hasChildren, expanded, orphan: tree.orphans.has(span.spanId) });
  }
  return rows;
}

/** The spans above `spanId`, nearest first (what must be expanded to show it). */
export function ancestorsOf<S extends TreeSpan>(tree: SpanTree<S>, spanId: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>([spanId]);
  let up = tree.parent.get(spanId) ?? null;
  while (up !== null && !seen.has(up)) {
    found.push(up);
    seen.add(up);
    up = tree.parent.get(up) ?? null;
  }
  return found;
}

/** Every span that has children: collapsing them all leaves only the roots. */
export function parentsOf<S extends TreeSpan>(tree: SpanTree<S>): string[] {
  const found: string[] = [];
  for (let i = 0; i < tree.order.length; i++) {
    if (tree.childCount[i]! > 0) found.push(tree.order[i]!.spanId);
  }
  return found;
}
