// The profile's outputs: a markdown table, JSON, and an SVG chart (vega-lite, rendered in Node) of the cost
// of a step against model size.
import type * as vl from 'vega-lite';
import { formatBytes } from '../model/memory';
import { renderVegaLite } from '../report/render-svg';
import type { ProfileResult } from './profile';

export interface ProfileRow extends ProfileResult {
  /** Achieved GFLOP/s over the measured peak of all cores (fp32, or bf16 for a bf16 case), or null when none. */
  ofPeak: number | null;
}

export function profileTable(rows: readonly ProfileRow[]): string {
  const out = [
    '| size | batch | GEMMs | parameters | GFLOP/step (fwd+bwd) | planned memory | peak RSS | ms/step | windows/s | GFLOP/s | of peak (same precision) |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    out.push(`| ${r.size} | ${r.batch} | ${r.compute} | ${(r.params / 1e6).toFixed(2)}M | ${(r.flops.total / 1e9).toFixed(2)} | ${formatBytes(r.plan.totalBytes)} | ` +
      `${r.peakRssBytes === null ? 'n/a' : formatBytes(r.peakRssBytes)} | ${r.msPerStep.toFixed(1)} | ${r.windowsPerSecond.toFixed(2)} | ` +
      `${r.gflops.toFixed(1)} | ${r.ofPeak === null ? '' : `${(100 * r.ofPeak).toFixed(1)}%`} |`);
  }
  return out.join('\n');
}

/**
 * Per case profiled with --ops: where a step's time goes, by op family, with each family's share of the step
 * and the GEMMs' total against everything outside them.
 */
export function opsTable(rows: readonly ProfileRow[]): string {
  const out: string[] = [];
  for (const r of rows) {
    if (!r.ops) continue;
    const booked = r.ops.reduce((a, o) => a + o.ms, 0);
    const gemm = r.ops.filter((o) => o.family.startsWith('GEMM')).reduce((a, o) => a + o.ms, 0);
    out.push(`${r.size} B=${r.batch}${r.compute === 'bf16' ? ' (bf16 GEMMs)' : ''}: ${r.msPerStep.toFixed(1)} ms/step; GEMMs ${gemm.toFixed(1)} ms (${((100 * gemm) / r.msPerStep).toFixed(0)}%), ` +
      `everything else ${(booked - gemm).toFixed(1)} ms (${((100 * (booked - gemm)) / r.msPerStep).toFixed(0)}%), ` +
      `outside any op ${Math.max(0, r.msPerStep - booked).toFixed(1)} ms`);
    out.push('', '| op family | ms/step | of step | calls/step |', '| --- | ---: | ---: | ---: |');
    for (const o of r.ops) out.push(`| ${o.family} | ${o.ms.toFixed(2)} | ${((100 * o.ms) / r.msPerStep).toFixed(1)}% | ${o.calls} |`);
    out.push('');
  }
  return out.join('\n');
}

/** Time per step and achieved GFLOP/s against parameter count, one line per batch size (log axes). */
export function profileChartSpec(rows: readonly ProfileRow[]): vl.TopLevelSpec {
  const data = rows.map((r) => ({ size: r.size, params: r.params, batch: `B=${r.batch}`, ms: r.msPerStep, gflops: r.gflops }));
  const x = { field: 'params', type: 'quantitative', scale: { type: 'log' }, title: 'parameters' } as const;
  const color = { field: 'batch', type: 'nominal', title: 'batch' } as const;
  const layer = (field: 'ms' | 'gflops', title: string, log: boolean) => ({
    width: 360, height: 240,
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x, y: { field, type: 'quantitative', title, ...(log ? { scale: { type: 'log' } } : {}) }, color } },
      { mark: { type: 'text', dy: -10, fontSize: 10 }, encoding: { x, y: { field, type: 'quantitative', ...(log ? { scale: { type: 'log' } } : {}) }, text: { field: 'size' } } },
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `PPG-GPT fine-tuning step: cost against model size (${[...new Set(rows.map((r) => r.compute))].join(', ') || 'fp32'} GEMMs)`,
    data: { values: data },
    hconcat: [layer('ms', 'ms per step (log)', true), layer('gflops', 'achieved GFLOP/s', false)],
  } as unknown as vl.TopLevelSpec;
}

export function profileSvg(rows: readonly ProfileRow[]): Promise<string> {
  return renderVegaLite(profileChartSpec(rows), 'profile');
}
