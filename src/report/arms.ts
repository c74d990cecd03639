// An "arm" is what the charts compare: a strategy, refined by model size and hyper-parameters only when the
// experiment has several of them for that strategy (a sweep over λ gives arms "adv λ=0.1", "adv λ=1"). Seeds
// of one arm are replicates. Arms are ordered by the canonical strategy order (erm, the unmitigated
// "before", first), then by label, so every chart lists them the same way.
import type { CellResult, ExperimentResults } from '../experiment/results';

export const STRATEGY_ORDER = ['erm', 'if', 'groupdro', 'groupdro-paper', 'adv'];

function paramsText(params: Record<string, number | string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join(' ');
}

export interface Arms {
  /** The arm label of each cell, by cell id. */
  labelOf(cell: CellResult): string;
  /** All arm labels in display order. */
  order: string[];
}

function strategyRank(s: string): number {
  const i = STRATEGY_ORDER.indexOf(s);
  return i === -1 ? STRATEGY_ORDER.length : i;
}

export function armsOf(results: Pick<ExperimentResults, 'cells'>): Arms {
  const sizes = new Set(results.cells.map((c) => c.size));
  const modes = new Set(results.cells.map((c) => c.mode ?? 'full'));
  const paramSets = new Map<string, Set<string>>();
  for (const c of results.cells) {
    if (!paramSets.has(c.strategy)) paramSets.set(c.strategy, new Set());
    paramSets.get(c.strategy)!.add(paramsText(c.params));
  }
  const labelOf = (c: CellResult): string => {
    let label = c.strategy;
    if (sizes.size > 1) label += ` ${c.size}`;
    if (modes.size > 1) label += ` ${c.mode ?? 'full'}`;
    if ((paramSets.get(c.strategy)?.size ?? 0) > 1) label += ` ${paramsText(c.params)}`;
    return label;
  };
  const byLabel = new Map<string, string>();
  for (const c of results.cells) byLabel.set(labelOf(c), c.strategy);
  const order = [...byLabel.keys()].sort((a, b) => strategyRank(byLabel.get(a)!) - strategyRank(byLabel.get(b)!) || a.localeCompare(b));
  return { labelOf, order };
}

/** Group names in first-seen order over the cells (normally every cell has the same groups). */
export function groupOrder(results: Pick<ExperimentResults, 'cells'>): string[] {
  const seen = new Set<string>();
  for (const c of results.cells) for (const g of c.groupNames) seen.add(g);
  return [...seen];
}

/** Distinct values in first-seen order. */
export function uniqueInOrder<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}
