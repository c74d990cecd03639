// What each strategy costs (the paper's question 3): per model size and strategy, the cells' wall time, the
// part of it the strategy's own work took (its step hooks and sampler), throughput and peak memory, the
// overhead against ERM of the same size, and the fairness gained per unit of that extra compute: the change
// in the mean gap (over the transfers both ran) against ERM, divided by the extra minutes per cell.
import type { CellResult, ExperimentResults } from '../experiment/results';

export interface CostRow {
  size: string;
  /** Fine-tuning mode (full, lora, …): with LoRA as a grid axis, each mode is compared with its own ERM. */
  mode: string;
  strategy: string;
  cells: number;
  /** Mean wall seconds per cell. */
  seconds: number;
  /** Mean seconds per cell of the strategy's own work. */
  strategySeconds: number | null;
  windowsPerSecond: number;
  peakRssMiB: number | null;
  /** (seconds − ERM's) / ERM's; null without ERM cells of this size. */
  overhead: number | null;
  /** Mean gap minus ERM's over the same transfers, bpm (negative narrows); null without ERM. */
  gapChange: number | null;
  /** gapChange per extra minute of compute per cell; null when there is no extra time or no ERM. */
  gapChangePerExtraMinute: number | null;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Each (transfer, seed)'s gap of a cell, keyed so that two strategies' cells can be paired. */
function gapsOf(c: CellResult): Map<string, number> {
  return new Map(c.targets.map((t) => [`${c.source}→${t.target}#${c.seed}`, t.metrics.gap.estimate]));
}

export function costRows(results: Pick<ExperimentResults, 'cells'>): CostRow[] {
  const bySize = new Map<string, Map<string, CellResult[]>>();
  for (const c of results.cells) {
    const key = JSON.stringify([c.size, c.mode ?? 'full']);
    if (!bySize.has(key)) bySize.set(key, new Map());
    const m = bySize.get(key)!;
    if (!m.has(c.strategy)) m.set(c.strategy, []);
    m.get(c.strategy)!.push(c);
  }
  const rows: CostRow[] = [];
  for (const [key, byStrategy] of bySize) {
    const [size, mode] = JSON.parse(key) as [string, string];
    const erm = byStrategy.get('erm');
    const ermSeconds = erm ? mean(erm.map((c) => c.training.seconds)) : null;
    const ermGaps = new Map<string, number>();
    for (const c of erm ?? []) for (const [k, g] of gapsOf(c)) ermGaps.set(k, g);
    for (const [strategy, cells] of byStrategy) {
      const seconds = mean(cells.map((c) => c.training.seconds));
      const own = cells.map((c) => c.training.strategySeconds).filter((v): v is number => v !== undefined);
      const rss = cells.map((c) => c.training.peakRssMiB).filter((v): v is number => v !== undefined);
      const diffs: number[] = [];
      for (const c of cells) for (const [k, g] of gapsOf(c)) if (ermGaps.has(k)) diffs.push(g - ermGaps.get(k)!);
      const gapChange = ermSeconds === null || diffs.length === 0 ? null : mean(diffs);
      const extraMin = ermSeconds === null ? null : (seconds - ermSeconds) / 60;
      rows.push({
        size, mode, strategy, cells: cells.length, seconds,
        strategySeconds: own.length ? mean(own) : null,
        windowsPerSecond: mean(cells.map((c) => c.training.windowsPerSecond)),
        peakRssMiB: rss.length ? Math.max(...rss) : null,
        overhead: ermSeconds === null ? null : (seconds - ermSeconds) / ermSeconds,
        gapChange,
        gapChangePerExtraMinute: strategy === 'erm' || gapChange === null || extraMin === null || !(extraMin > 0) ? null : gapChange / extraMin,
      });
    }
  }
  return rows;
}
