// The CPU speed targets (issue 14) checked against the rows of one bench run: each target with the figure
// measured in that run, met or missed, or "not measured" when the run did not produce the rows it needs
// (a --suite subset, a missing peer, --quick). BENCHMARKS.md prints the list, so every claim about the
// targets is a ratio taken in the same run on the same CPU.
import type { OpFamilyTime } from '../src/profile/op-timer';
import type { Row } from './types';

export interface TargetCheck {
  target: string;
  /** The figure this run measured, in words; "not measured" when it is missing. */
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

const ENGINE_STEP = 'fine-tuning step · engine (HrStep + AdamW)';
const ENGINE_STEP_BF16 = 'fine-tuning step · engine, bf16 GEMMs (fp32 master weights)';
const TORCH_FP32 = 'fine-tuning step · PyTorch 1.13 fp32';
const TORCH_BF16 = 'fine-tuning step · PyTorch 1.13 bf16 autocast';
const ENGINE_GEMM = 'linear forward (+bias) · engine';
const ENGINE_GEMM_BACKWARD = 'linear backward dx + dW · engine';
/** The suffix of the GEMM suite's one-thread figures. */
const ONE_THREAD = ', one thread';
const ENGINE_ATTENTION = 'ropeAttention fwd+bwd · engine (fused)';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const times = (x: number) => `${x.toFixed(2)}×`;

function find(rows: readonly Row[], figure: string, shape: (s: string) => boolean): Row | undefined {
  return rows.find((r) => r.figure === figure && shape(r.shape) && Number.isFinite(r.ms));
}

/** One check from a set of named values; any missing value makes it "not measured". */
function check(target: string, parts: { label: string; value: number | null | undefined; min: number; fmt: (x: number) => string }[]): TargetCheck {
  if (parts.some((p) => p.value === null || p.value === undefined || !Number.isFinite(p.value))) {
    return { target, measured: 'not measured in this run', met: null };
  }
  const measured = parts.map((p) => `${p.label} ${p.fmt(p.value as number)}`).join(', ');
  return { target, measured, met: parts.every((p) => (p.value as number) >= p.min) };
}

export function checkTargets(rows: readonly Row[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const step32 = find(rows, ENGINE_STEP, (s) => s.startsWith('19m B=32'));
  const torch32 = find(rows, TORCH_FP32, (s) => s.startsWith('19m B=32'));
  out.push(check('19m step fp32, B=32: ≥ 75% of the fp32 peak and ≥ 1.5× PyTorch fp32', [
    { label: 'of peak', value: step32?.ofPeak, min: 0.75, fmt: pct },
    { label: 'vs PyTorch', value: step32 && torch32 ? torch32.ms / step32.ms : null, min: 1.5, fmt: times },
  ]));
  const bf = find(rows, ENGINE_STEP_BF16, (s) => s.startsWith('19m B=32'));
  const torchBf = find(rows, TORCH_BF16, (s) => s.startsWith('19m B=32'));
  out.push(check('19m step bf16 mode: ≥ 60% of the bf16 peak, ≥ 1.5× PyTorch bf16 autocast, ≥ 1.8× the engine\'s fp32 step', [
    // The peak of the instruction the bf16 GEMMs ran on (bench/suites/peak.ts: bf16PeakOf), named.
    { label: bf?.peakOf === 'amxAll' ? 'of AMX bf16 peak' : 'of bf16 peak', value: bf?.ofPeak, min: 0.6, fmt: pct },
    { label: 'vs autocast', value: bf && torchBf ? torchBf.ms / bf.ms : null, min: 1.5, fmt: times },
    { label: 'vs own fp32', value: bf && step32 ? step32.ms / bf.ms : null, min: 1.8, fmt: times },
  ]));
  for (const size of ['19m', '1b']) {
    const r = find(rows, ENGINE_STEP, (s) => s.startsWith(`${size} B=8`));
    out.push(check(`${size} step fp32, B=8: ≥ 50% of the fp32 peak`, [{ label: 'of peak', value: r?.ofPeak, min: 0.5, fmt: pct }]));
  }
  // Forward and backward products alike: both are the model's shapes.
  const gemms = rows.filter((r) => (r.figure === ENGINE_GEMM || r.figure === ENGINE_GEMM_BACKWARD) && Number.isFinite(r.ms));
  if (gemms.length === 0) {
    out.push({ target: 'GEMM: ≥ 1.0× the best of OpenBLAS and oneDNN on every model shape', measured: 'not measured in this run', met: null });
    out.push({ target: 'GEMM: ≥ 85% of the fp32 peak at the 85m and 345m shapes', measured: 'not measured in this run', met: null });
  } else {
    const ratios = gemms.map((r) => r.ratio);
    const worst = gemms.reduce((a, r) => ((r.ratio ?? Infinity) < (a.ratio ?? Infinity) ? r : a));
    const tally = (figure: string, name: string) => {
      const of = gemms.filter((r) => r.figure === figure);
      return of.length ? [`${of.filter((r) => (r.ratio as number) >= 1).length} of ${of.length} ${name}`] : [];
    };
    const counts = [...tally(ENGINE_GEMM, 'forward'), ...tally(ENGINE_GEMM_BACKWARD, 'backward')].join(' and ');
    const named = (r: Row) => `${r.figure === ENGINE_GEMM ? 'forward' : 'backward'} ${r.shape}`;
    // The one-thread rows (bench/suites/gemm.ts) do not decide the target, but beside a miss they say whether
    // the kernels or the sharing of the two cores fell short.
    const single = rows.filter((r) => (r.figure === `${ENGINE_GEMM}${ONE_THREAD}` || r.figure === `${ENGINE_GEMM_BACKWARD}${ONE_THREAD}`) &&
      Number.isFinite(r.ms) && r.ratio !== null);
    const singleNote = single.length === 0 ? '' : `; with one thread on every side ${single.filter((r) => (r.ratio as number) >= 1).length} of ${single.length}, worst ${times(Math.min(...single.map((r) => r.ratio as number)))}`;
    out.push(ratios.some((x) => x === null)
      ? { target: 'GEMM: ≥ 1.0× the best of OpenBLAS and oneDNN on every model shape', measured: 'not measured (a peer is missing)', met: null }
      : { target: 'GEMM: ≥ 1.0× the best of OpenBLAS and oneDNN on every model shape',
          measured: `${counts} shapes at ≥ 1.0×; worst ${times(worst.ratio as number)} (${named(worst)})${singleNote}`,
          met: gemms.every((r) => (r.ratio as number) >= 1) });
    const big = gemms.filter((r) => /^(85m|345m) /.test(r.shape));
    const low = big.length ? big.reduce((a, r) => ((r.ofPeak ?? 0) < (a.ofPeak ?? 0) ? r : a)) : undefined;
    out.push(check('GEMM: ≥ 85% of the fp32 peak at the 85m and 345m shapes', [
      { label: `lowest (${low ? named(low) : '-'})`, value: low?.ofPeak, min: 0.85, fmt: pct },
    ]));
  }
  const a30 = find(rows, ENGINE_ATTENTION, (s) => / S=31 /.test(s));
  const a256 = find(rows, ENGINE_ATTENTION, (s) => / S=257 /.test(s));
  out.push(check('Attention fwd+bwd: ≥ 10× PyTorch at T=30', [{ label: 'vs PyTorch', value: a30?.ratio, min: 10, fmt: times }]));
  out.push(check('Attention fwd+bwd: ≥ 40% of the fp32 peak at T=256', [{ label: 'of peak', value: a256?.ofPeak, min: 0.4, fmt: pct }]));
  return out;
}

/** An op profile taken in the run: which step (label), the command that repeats it, and its families. */
export interface OpProfile {
  label: string;
  command: string;
  stepMs: number;
  families: readonly OpFamilyTime[];
}

/** The checks as a markdown table, then where each profiled step's time went (fp32, and bf16 mode when taken). */
export function targetsMarkdown(checks: readonly TargetCheck[], profiles: readonly OpProfile[] = []): string {
  const lines = ['## Targets (issue 14), checked in this run', '', '| target | measured | met |', '| --- | --- | --- |'];
  for (const c of checks) lines.push(`| ${c.target} | ${c.measured} | ${c.met === null ? '–' : c.met ? 'yes' : '**no**'} |`);
  for (const ops of profiles) {
    const gemm = ops.families.filter((f) => f.family.startsWith('GEMM')).reduce((s, f) => s + f.ms, 0);
    lines.push('', `What limits ${ops.label} (its op profile, \`${ops.command}\`, taken in this run; ` +
      `the families of its median step, ${ops.stepMs.toFixed(1)} ms, GEMMs ${pct(gemm / ops.stepMs)} of it):`, '',
      '| op family | ms/step | of step | calls/step |', '| --- | ---: | ---: | ---: |');
    for (const f of ops.families) lines.push(`| ${f.family} | ${f.ms.toFixed(2)} | ${pct(f.ms / ops.stepMs)} | ${f.calls} |`);
  }
  return lines.join('\n');
}
