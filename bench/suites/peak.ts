// The machine's peak: fp32 FMA and AVX512-BF16 dot products, 1 thread and all cores (bench/native/peak.cc).
import * as os from 'os';
import { measurePeak } from '../../src/profile/peak';
import type { Peaks, Row, Suite, SuiteContext } from '../types';

/** Measured once per run; every suite's "of peak" column divides by these. */
export function measurePeaks(quick: boolean): Peaks {
  const s = quick ? 0.1 : 0.5, all = os.cpus().length;
  const fp32One = measurePeak('fp32', 1, s).gflops, bf16One = measurePeak('bf16', 1, s).gflops;
  // On a loaded machine the all-core loop can come out below the one-core loop, which no idle machine does;
  // the larger of the two is then the better estimate of what the cores can do.
  const atLeast = (x: number | null, floor: number | null) => (x === null ? null : Math.max(x, floor ?? 0));
  return {
    fp32One,
    fp32All: atLeast(measurePeak('fp32', all, s).gflops, fp32One),
    bf16One,
    bf16All: atLeast(measurePeak('bf16', all, s).gflops, bf16One),
  };
}

export const peakSuite: Suite = {
  name: 'peak',
  description: 'fp32 FMA and bf16 dot-product peak, 1 thread and all cores',
  async run(ctx: SuiteContext): Promise<Row[]> {
    const p = ctx.peaks, all = os.cpus().length;
    const row = (figure: string, threads: number, g: number | null): Row => ({
      suite: 'peak', figure, shape: `${threads} thread${threads > 1 ? 's' : ''}`, ms: NaN, rate: g ?? NaN, unit: 'GFLOP/s',
      peer: null, ratio: null, ofPeak: null,
      note: g === null ? 'instructions not available on this CPU' : 'register-only loop, 16 independent accumulators',
    });
    return [
      row('fp32 FMA peak (vfmadd, zmm)', 1, p.fp32One),
      row('fp32 FMA peak (vfmadd, zmm)', all, p.fp32All),
      row('bf16 dot-product peak (vdpbf16ps, zmm)', 1, p.bf16One),
      row('bf16 dot-product peak (vdpbf16ps, zmm)', all, p.bf16All),
    ];
  },
};
