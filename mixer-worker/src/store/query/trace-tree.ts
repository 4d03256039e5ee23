/** The fields a span needs to take its place in a tree. */
export interface TreeSpan {
  span_id: string;
  parent_span_id: string | null;
  ts: number;
}

export interface TreeNode<S> {
  span: S;
  /** 0 for a root. */
  depth: number;
  /** A span whose parent is not among the spans (not stored, or outside the window), shown as a root. */
  orphan: boolean;
}

const byStart = (a: TreeSpan, b: TreeSpan) =>
  a.ts - b.ts || (a.span_id < b.span_id ? -1 : a.span_id > b.span_id ? 1 : 0);

/**
 * Orders a trace's spans depth-first: each parent before its children, roots and siblings by start time.
 * Spans whose parent is missing become roots marked `orphan`; spans caught in a parent cycle (bad data)
 * come last, as orphans, so every span is shown exactly once.
 *
 * @example traceTree(spans).map(({ span, depth }) => `${"  ".repeat(depth)}${span.span_id}`)
 */
export function traceTree<S extends TreeSpan>(spans: readonly S[]): TreeNode<S>[] {
  const ids = new Set(spans.map((span) => span.span_id));
  const children = new Map<string, S[]>();
  const roots: S[] = [];
  for (const span of spans) {
    const parent = span.parent_span_id;
    if (parent === null || !ids.has(parent) || parent === span.span_id) roots.push(span);
    else children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const ordered: TreeNode<S>[] = [];
  const placed = new Set<S>();
  const visit = (start: S[], orphan: (span: S) => boolean) => {
    const stack = [...start]
      .sort(byStart)
      .reverse()
      .map((span) => ({ span, depth: 0 }));
    for (let top = stack.pop(); top; top = stack.pop()) {
      if (placed.has(top.span)) continue;
      placed.add(top.span);
      ordered.push({ span: top.span, depth: top.depth, orphan: top.depth === 0 && orphan(top.span) });
      const below = [...(children.get(top.span.span_id) ?? [])].sort(byStart).reverse();
      for (const child of below) stack.push({ span: child, depth: top.depth + 1 });
    }
  };
  visit(roots, (span) => span.parent_span_id !== null);
  visit(
    spans.filter((span) => !placed.has(span)),
    () => true,
  );
  return ordered;
}
