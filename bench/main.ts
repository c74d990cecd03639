// npm run bench [-- --suite peak,gemm,attention,step,gpujs,webgpu,ops] [--quick] [--json F] [--markdown F]:
// the engine measured side by side with its peers in one run, one module per suite in ./suites.
// Figures are medians of repeated calls; "of peak" divides by the fp32 FMA peak on all cores, the best of
// its measurements in the run (bench/native/peak.cc; suites/peak.ts says why the best). --markdown writes
// BENCHMARKS.md: the table, the command, the date and the machine's load, so that regenerating the file is
// this one command.
import { execFileSync } from 'child_process';
import { Command } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import { getBackend } from '../src/engine/registry';
import { profileCase } from '../src/profile/profile';
import { writeFileAtomic } from '../src/util/atomic-write';
import { handicapsSet, KEEP_FREED_MEMORY, PEER_HANDICAPS, PEER_PACKAGES } from './peer-env';
import { fmaProbe, refuseDisturbed, STEADY_SPREAD, STEADY_THRESHOLD, steadyGuard, type SteadyGuard } from './steadiness';
import { markdownTable } from './table';
import { ATTENTION_MAX_ROUNDS, ATTENTION_ROUNDS, attentionSuite } from './suites/attention';
import { GEMM_MAX_ROUNDS, GEMM_ROUNDS, gemmOneThreadSuite, gemmSuite } from './suites/gemm';
import { gpujsSuite } from './suites/gpujs';
import { opsSuite } from './suites/ops';
import { abovePeak, finalPeaks, measurePeaks, peakSuite, settlePeaks } from './suites/peak';
import { STEP_ROUNDS, stepSuite } from './suites/step';
import { webgpuSuite } from './suites/webgpu';
import { checkTargets, targetsMarkdown, type OpProfile } from './targets';
import type { Row, Suite } from './types';

const SUITES: readonly Suite[] = [peakSuite, gemmSuite, gemmOneThreadSuite, attentionSuite, stepSuite, gpujsSuite, webgpuSuite, opsSuite];
const DEFAULT = 'peak,gemm,gemm-one-thread,attention,step,gpujs,webgpu';


function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`;
  }
}

function cpuModel(): string {
  const flags = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const isa = ['avx2', 'fma', 'avx512f', 'avx512_bf16', 'avx512_fp16', 'amx_bf16'].filter((f) => new RegExp(`\\b${f}\\b`).test(flags));
  // Virtual machines often report a bare "AMD EPYC": family and model still tell the generation (26: Zen 5).
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(\\d+)`, 'm').exec(flags)?.[1];
  const fam = field('cpu family'), model = field('model');
  const id = fam !== undefined ? ` (family ${fam}${model !== undefined ? `, model ${model}` : ''})` : '';
  return `${os.cpus()[0]?.model ?? 'unknown CPU'}${id} × ${os.cpus().length} (${isa.join(', ')}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
}

function markdownDocument(rows: Row[], command: string, started: Date, loadBefore: string, loadAfter: string, backend: string, targets: string,
  steady: SteadyGuard, quick: boolean, raised: readonly string[]): string {
  return [
    '# Benchmarks',
    '',
    'The engine measured side by side with its peers in one run (`bench/`; suites in `bench/suites/`).',
    'Engine rows: **peer** is the fastest peer of that row and **ratio** is the engine\'s rate over that peer\'s',
    '(above 1: the engine is faster). **of peak** divides GFLOP/s (for the step, the analytic FLOPs of',
    '`src/profile/flops.ts` per second) by the fp32 FMA peak measured on all cores in the same run',
    '(bf16 rows: by the peak of the instruction the bf16 GEMMs run on, AMX tiles where the CPU has them, else',
    'vdpbf16ps). Times are medians of repeated calls. Each peak is the best of',
    `its measurements in the run (${quick ? 'one' : 'three'} at the start, ${quick ? 'one' : 'three'} at the end, and for the fp32 peaks every`,
    'steadiness probe of their width, all cores or one): a host slowed while the peak was measured would otherwise inflate every share.',
    '',
    'Every side is timed in steady state and every peer at its best:',
    '- warm-up calls continue past a minimum (GEMM 3, attention 3, training step 5) until a call no longer beats',
    '  the best before it by 3%; the warm-up used is in each row\'s note (PyTorch 1.13 takes 3–5 steps to settle);',
    `- the peers run without ${PEER_HANDICAPS.join(' and ')} (set on these machines for old OpenBLAS builds; they force`,
    '  OpenBLAS\'s AVX2 kernels on AVX-512 CPUs), removed in the peer\'s own process only; the kernel each',
    '  library then chose (OpenBLAS core name, oneDNN ISA) is in its row\'s note;',
    '- PyTorch runs under every thread setting listed (torch threads / OpenBLAS threads); the fastest is the peer;',
    ...(quick
      ? ['- GEMM shapes and the 19m step: one turn per side (a --quick run: nothing evens out a slow stretch of the host);']
      : [`- GEMM shapes: the engine, OpenBLAS and oneDNN take ${GEMM_ROUNDS} turns each, alternately (${GEMM_MAX_ROUNDS} when some side's`,
        `  first ${GEMM_ROUNDS} disagree by more than ${STEADY_SPREAD}×); each figure is the median of its turns' medians, so a slow`,
        '  stretch of the host does not fall on one side only; the backward rows time the engine\'s linearBackward',
        '  (dx and dW, no bias) against the same two products through each peer;',
        '  gemm-one-thread takes the 19m shapes again with one thread on every side (against the one-thread peak):',
        '  the kernels without the two threads\' contention for a shared host\'s cores;',
        `- attention: the engine (without and with attention dropout) and PyTorch take ${ATTENTION_ROUNDS} turns each the same way`,
        `  (${ATTENTION_MAX_ROUNDS} when some side's first ${ATTENTION_ROUNDS} disagree; PyTorch under its best thread setting after the first turn);`,
        `- the 19m B=32 step: the engine (fp32, bf16 mode) and PyTorch (fp32, bf16 autocast) take ${STEP_ROUNDS} turns each`,
        '  the same way (PyTorch under its best thread setting after the first turn); tfjs runs once, after them;']),
    `- PyTorch runs with glibc malloc keeping freed memory (${Object.entries(KEEP_FREED_MEMORY).map(([k, v]) => `${k}=${v}`).join(', ')}):`,
    '  with the defaults it returns its activations to the kernel every step and faults them back in (see',
    '  `bench/peer-env.ts`).',
    '',
    `- Command (regenerates this file; build first with \`npm run build\`): \`${command}\``,
    `- Date: ${started.toISOString()}`,
    `- Machine: ${cpuModel()}; engine backend: ${backend}`,
    `- Environment of this run: ${handicapsSet()} (kept for the engine, removed for the peers)`,
    `- Load before: \`${loadBefore}\``,
    `- Load after: \`${loadAfter}\``,
    `- Peaks: ${raised.length === 0 ? 'the start\'s measurements were within 1% of the run\'s best' : `raised by measurements later in the run (${raised.join('; ')}), every share taken against the raised peak`}`,
    `- Host steadiness: every engine and peer figure was taken between two 0.1 s probes of the all-core FMA loop (a one-thread figure: of the one-thread loop, against the one-thread peak) and taken again after a pause when a probe fell below ${(STEADY_THRESHOLD * 100).toFixed(0)}% of the peak, or of a probe that beat it (a core taken by another tenant), or when its median call took more than ${STEADY_SPREAD}× its 10th-percentile call (slowed part of the way through, between calm probes); ${steady.retried.length === 0 ? 'none needed it in this run' : `${steady.retried.length} needed it in this run (${steady.retried.join('; ')})`}${steady.spread.length ? `; calls still spread after the retries, on a calm host (the calm attempt with the lowest median stands): ${steady.spread.join('; ')}` : ''}${steady.disturbed.length ? `; still disturbed after the retries: ${steady.disturbed.join('; ')}` : ''}`,
    `- Turns: each comparison's figures are medians of turns taken alternately; turns of one figure that still disagree by more than ${STEADY_SPREAD}× (slowest over fastest; GEMM shapes and attention: after their extra turns) are listed here: ${steady.unevenTurns.length === 0 ? 'none in this run' : steady.unevenTurns.join('; ')}`,
    '',
    markdownTable(rows),
    '',
    'Notes: the engine has no batched matmul, so the unfused attention peer is the reference backend (plain',
    'TypeScript), not the engine\'s own ops. The PyTorch and tfjs models have no dropout, so every step runs',
    'with dropout off. tfjs has no AdamW: Adam plus the decoupled decay applied by hand. The scaling profile',
    '(`fairtune profile`, tiny to 1b) is in [docs/profile.md](docs/profile.md). The CUDA kernels cannot be timed',
    'here (no GPU): their resources and expected H100 roofline are in [docs/cuda.md](docs/cuda.md).',
    '',
    targets,
    '',
  ].join('\n');
}

/**
 * A full comparison without some of its peers is not the comparison BENCHMARKS.md claims: writing the
 * document then fails naming the peers and their packages (a --quick smoke run, or --allow-missing-peers, may).
 */
export function refuseWithoutPeers(file: string, missing: ReadonlyMap<string, string>, allowed: boolean): void {
  if (missing.size === 0 || allowed) return;
  const peers = [...missing.keys()];
  throw new Error(`not writing ${file}: peer(s) ${peers.join(', ')} could not run (${peers.map((p) => `${p}: ${missing.get(p)}; ` +
    `package ${PEER_PACKAGES[p] ?? 'unknown'}`).join('; ')}); install them or pass --allow-missing-peers`);
}

/** A share of peak above 100% means no measurement of the peak was right: the figures cannot be claimed. */
export function refuseAbovePeak(file: string, above: readonly string[], allowed: boolean): void {
  if (above.length === 0 || allowed) return;
  throw new Error(`not writing ${file}: ${above.length} figure(s) above the measured peak (${above.slice(0, 3).join('; ')}); ` +
    'the peak loop was slowed each time it ran; run again later or pass --allow-disturbed');
}

/** Parses bench options from argv (without the node and script entries), runs the suites, returns the rows. */
export async function runBench(argv: string[]): Promise<Row[]> {
  const program = new Command()
    .name('bench')
    .option('--backend <name>', 'engine backend to measure', 'cpu')
    .option('--suite <names>', `comma-separated suites (${SUITES.map((s) => s.name).join(', ')})`, DEFAULT)
    .option('--quick', 'a few seconds per suite (CI smoke; figures are rough)')
    .option('--json <file>', 'also write the rows as JSON')
    .option('--markdown <file>', 'also write a BENCHMARKS.md-style document (table, command, date, load)')
    .option('--allow-missing-peers', 'write --markdown even when a peer could not run (its rows are then absent)')
    .option('--allow-disturbed', 'write --markdown even when figures were measured while the host took a core')
    .exitOverride()
    .parse(argv, { from: 'user' });
  const o = program.opts<{ backend: string; suite: string; quick?: boolean; json?: string; markdown?: string; allowMissingPeers?: boolean; allowDisturbed?: boolean }>();
  const wanted = o.suite.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const suites = wanted.map((n) => {
    const s = SUITES.find((x) => x.name === n);
    if (!s) throw new Error(`unknown suite '${n}' (available: ${SUITES.map((x) => x.name).join(', ')})`);
    return s;
  });
  const started = new Date(), loadBefore = uptime();
  const be = getBackend(o.backend);
  const log = (m: string) => console.error(`  ${m}`);
  console.log(`fairtune bench · backend ${be.name} (${be.description}) · ${started.toISOString()} · ${loadBefore}`);
  const peaks = measurePeaks(!!o.quick);
  const rows: Row[] = [];
  const missing = new Map<string, string>();
  // Quick (CI smoke) runs do not probe: their figures are rough anyway, and a retry waits 15 s.
  const noProbe = () => null;
  const steady = steadyGuard({
    probe: o.quick ? noProbe : fmaProbe(os.cpus().length), reference: peaks.fp32All,
    one: { probe: o.quick ? noProbe : fmaProbe(1), reference: peaks.fp32One }, log,
  });
  const missingPeer = (peer: string, why: string) => {
    if (!missing.has(peer)) log(`peer ${peer} could not run: ${why}${PEER_PACKAGES[peer] ? ` (it comes with the Debian package ${PEER_PACKAGES[peer]})` : ''}`);
    missing.set(peer, why);
  };
  for (const s of suites) {
    console.error(`suite ${s.name}: ${s.description}`);
    const t0 = Date.now();
    const r = await s.run({ quick: !!o.quick, backend: o.backend, peaks, log, missingPeer, steady });
    console.error(`  ${r.length} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    rows.push(...r);
  }
  // The peaks as the best of every measurement of the run, and every share re-expressed against them.
  const peaksFinal = finalPeaks(peaks, measurePeaks(!!o.quick), steady.bestProbe('all'), steady.bestProbe('one'));
  const raised = settlePeaks(rows, peaks, peaksFinal);
  if (raised.length) log(`peaks raised by measurements later in the run (the start's came from a slowed host): ${raised.join('; ')}`);
  const table = markdownTable(rows);
  console.log(table);
  // Where the step's time goes, for the targets it misses: the op profiles of the fp32 step and of the bf16
  // mode's step, when the step suite ran in full. A profile that cannot run (no AVX512_BF16, a lowered ISA:
  // profileCase says which) is logged and left out: it must not cost the rows measured before it.
  const ops: OpProfile[] = [];
  if (suites.includes(stepSuite) && !o.quick && o.backend === 'cpu') {
    for (const compute of ['fp32', 'bf16'] as const) {
      console.error(`op profile: 19m B=32 ${compute} step by op family`);
      try {
        const p = profileCase({ size: '19m', batch: 32, patches: 30, steps: 7, backend: o.backend, ops: true, compute });
        if (p.ops) {
          ops.push({
            label: compute === 'fp32' ? 'the 19m fp32 step at B=32' : 'the 19m step in bf16 mode at B=32',
            command: `fairtune profile --sizes 19m --batch 32 --steps 7 --ops --compute ${compute}`,
            stepMs: p.msPerStep, families: p.ops,
          });
        }
      } catch (e) {
        log(`op profile: no ${compute} step profile: ${(e as Error).message}`);
      }
    }
  }
  const targets = targetsMarkdown(checkTargets(rows), ops);
  console.log(targets);
  const loadAfter = uptime();
  if (o.json) writeFileAtomic(o.json, JSON.stringify({ date: started.toISOString(), loadBefore, loadAfter, peaks: peaksFinal, peaksAtStart: peaks, rows, targets: checkTargets(rows), ops, steadiness: { retried: steady.retried, spread: steady.spread, disturbed: steady.disturbed, unevenTurns: steady.unevenTurns } }, null, 2));
  if (o.markdown) {
    refuseWithoutPeers(o.markdown, missing, !!o.quick || !!o.allowMissingPeers);
    refuseDisturbed(o.markdown, steady.disturbed, !!o.allowDisturbed);
    refuseAbovePeak(o.markdown, abovePeak(rows), !!o.quick || !!o.allowDisturbed);
    const command = `npm run bench -- ${argv.join(' ')}`.trim();
    writeFileAtomic(o.markdown, markdownDocument(rows, command, started, loadBefore, loadAfter, `${be.name} (${be.description})`, targets, steady, !!o.quick, raised));
  }
  return rows;
}

if (require.main === module) {
  runBench(process.argv.slice(2)).catch((e) => {
    console.error(`bench: ${(e as Error).message}`);
    process.exit(1);
  });
}
