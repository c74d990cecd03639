// Rows → a markdown table (printed by every run, and the body of BENCHMARKS.md).
import type { Row } from './types';

function num(x: number): string {
  if (!Number.isFinite(x)) return '';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 0.1 ? x.toFixed(2) : x.toPrecision(2);
}

export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    '| suite | figure | shape | ms | rate | peer | ratio | of peak | note |',
    '| --- | --- | --- | ---: | ---: | --- | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    lines.push(`| ${r.suite} | ${r.figure} | ${r.shape} | ${num(r.ms)} | ${num(r.rate)} ${r.unit} | ${r.peer ?? ''} | ` +
      `${r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`} | ${r.ofPeak === null ? '' : `${(100 * r.ofPeak).toFixed(1)}%`} | ${r.note ?? ''} |`);
  }
  return lines.join('\n');
}
