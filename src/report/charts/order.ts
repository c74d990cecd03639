// Category order in charts without custom sort arrays. vega-lite turns `sort: ['erm', 'if', …]` into an
// expression comparing datum values with string literals, and vega 5.33's expression parser reads the string
// literal "if" as the identifier `if` ("Unrecognized signal name: if"), which breaks any chart of the `if`
// strategy. So each category gets a numeric rank field and charts sort by it ({ field, op: 'min' }), which
// compiles to an aggregate, never to an expression holding the value. (Explicit colour-scale domains are
// literal arrays in the vega spec and are safe.)

/** The rank field that orders `field`. */
export function rankField(field: string): string {
  return `${field}_rank`;
}

/** Sort by `field`'s rank: usable for encodings and facets. */
export function byRank(field: string): { field: string; op: 'min' } {
  return { field: rankField(field), op: 'min' };
}

/**
 * Copies of the rows with a `<field>_rank` for each ordered field: the value's index in its order, or, for
 * a value missing from the order, a rank after all of them (in first-seen order).
 */
export function withRanks<T extends object>(rows: readonly T[], orders: Record<string, readonly string[]>): (T & Record<string, number>)[] {
  const index: Record<string, Map<string, number>> = {};
  for (const [field, order] of Object.entries(orders)) index[field] = new Map(order.map((v, i) => [v, i]));
  return rows.map((row) => {
    const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
    for (const field of Object.keys(orders)) {
      const m = index[field];
      const v = String((row as Record<string, unknown>)[field]);
      if (!m.has(v)) m.set(v, m.size);
      out[rankField(field)] = m.get(v);
    }
    return out as T & Record<string, number>;
  });
}
