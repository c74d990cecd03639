// `fairtune profile`: the scaling profile of the HR fine-tuning step over model sizes and batch sizes.
// Every case is planned first (and refused, with the plan, when it does not fit memory); each case that
// fits then runs in a child process of its own so that its measured peak RSS is its own.
import { fork } from 'child_process';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../util/atomic-write';
import * as fs from 'fs';
import * as path from 'path';
import { isModelSize, type ModelSize } from '../../model/config';
import { bf16PeakAllCores, bf16PeakInstruction, fp32PeakAllCores, fp32PeakVector } from '../../profile/peak';
import { currentCompute, isComputeChoice, planCase, profileCase, type ProfileCase, type ProfileResult } from '../../profile/profile';
import { opsTable, profileSvg, profileTable, type ProfileRow } from '../../profile/report';

interface ProfileOptions {
  sizes: string; batch: string; steps: string; patches: string; backend: string;
  json?: string; svg?: string; peak?: string; inProcess?: boolean; ops?: boolean; compute?: string; dropout: string;
}

function positiveInts(what: string, s: string): number[] {
  const out = s.split(',').map((v) => v.trim()).filter((v) => v.length > 0).map(Number);
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${what} must be positive integers separated by commas, got '${s}'`);
  return out;
}

/** Runs one case in a forked worker (compiled builds) or in this process (ts-node/jest, or --in-process). */
function runCase(c: ProfileCase, inProcess: boolean, log: (m: string) => void): Promise<ProfileResult> {
  const worker = path.join(__dirname, '..', '..', 'profile', 'worker.js');
  if (inProcess || !fs.existsSync(worker)) return Promise.resolve(profileCase(c, log));
  return new Promise((resolve, reject) => {
    const child = fork(worker, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let done = false;
    child.on('message', (m: { log?: string; result?: ProfileResult; error?: string }) => {
      if (m.log) log(m.log);
      if (m.result) { done = true; resolve(m.result); }
      if (m.error) { done = true; reject(new Error(m.error)); }
    });
    child.on('exit', (code, signal) => {
      if (!done) reject(new Error(`profile worker for ${c.size} B=${c.batch} died (${signal ?? `exit ${code}`}; out of memory?)`));
    });
    child.send(c);
  });
}

export function registerProfileCommand(program: Command): void {
  program
    .command('profile')
    .description('scaling profile of the fine-tuning step: parameters, FLOPs, memory, time and GFLOP/s per model size and batch')
    .option('--sizes <list>', 'model sizes (tiny, 19m, 85m, 345m, 1b)', 'tiny,19m,85m')
    .option('--batch <list>', 'batch sizes', '1,8,32')
    .option('--steps <n>', 'steps per case (the first is a warm-up when n > 1)', '2')
    .option('--patches <n>', 'patches per window T (S = T + 1 tokens)', '30')
    .option('--backend <name>', 'engine backend', 'cpu')
    .option('--compute <mode>', 'GEMM precision: fp32, bf16 (cpu: bf16 GEMMs, fp32 master weights) or tf32 (cuda) (default: the backend\'s mode, FAIRTUNE_COMPUTE or fp32)')
    .option('--dropout <p>', 'dropout probability of the model in the step, in [0, 1) (0: the dropout-free step the bench compares with PyTorch; 0.1 is the training default)', '0')
    .option('--peak <gflops>', 'peak to divide by (default: the CPU\'s fp32 peak, bf16 in bf16 mode, measured with bench/native/peak.cc; none for a device backend)')
    .option('--json <file>', 'write the results as JSON')
    .option('--svg <file>', 'write the cost-against-size chart as SVG')
    .option('--in-process', 'run every case in this process (peak RSS is then the running maximum)')
    .option('--ops', 'also time each op family per step (GEMMs by role, attention, norms, dropout, AdamW, zeroing, copies; cpu and reference)')
    .action(async (o: ProfileOptions) => {
      const sizes = o.sizes.split(',').map((s) => s.trim());
      for (const s of sizes) if (!isModelSize(s)) throw new Error(`--sizes: unknown model size '${s}' (tiny, 19m, 85m, 345m, 1b)`);
      const batches = positiveInts('batch', o.batch), [steps] = positiveInts('steps', o.steps), [patches] = positiveInts('patches', o.patches);
      const dropout = Number(o.dropout);
      if (o.dropout.trim() === '' || !Number.isFinite(dropout) || dropout < 0 || dropout >= 1) {
        throw new Error(`--dropout must be a probability in [0, 1), got '${o.dropout}'`);
      }
      if (o.compute !== undefined && !isComputeChoice(o.compute)) throw new Error(`--compute must be fp32, bf16 or tf32, got '${o.compute}'`);
      // Resolved here, once, so that the peak and every case (each in its own process) agree on it.
      const compute = o.compute ?? currentCompute(o.backend);
      // Only the cpu and reference backends have a measured peak: the CPU's. bf16 GEMMs are held against the peak
      // of the instruction they run on (AMX tiles or vdpbf16ps), as the bench holds its bf16 rows.
      const cpuPeak = o.backend === 'cpu' || o.backend === 'reference';
      const peakKind = compute !== 'bf16' ? 'fp32' : cpuPeak ? bf16PeakInstruction() : 'bf16';
      let peak: number | null = null;
      if (o.peak !== undefined) {
        peak = Number(o.peak);
        if (!(peak > 0)) throw new Error(`--peak must be a positive number of GFLOP/s, got '${o.peak}'`);
      } else if (!cpuPeak) {
        // The measured peaks are the CPU's: they mean nothing for a device backend.
        console.error(`profile: no peak measured for backend ${o.backend} (the CPU's would mean nothing); give --peak for the "of peak" column`);
      } else {
        try {
          peak = peakKind === 'fp32' ? fp32PeakAllCores() : bf16PeakAllCores(0.5, peakKind);
        } catch (e) {
          console.error(`profile: no ${peakKind} peak (${(e as Error).message}); the "of peak" column stays empty`);
        }
      }
      const log = (m: string) => console.error(`  ${m}`);
      const vector = peakKind === 'fp32' && cpuPeak ? fp32PeakVector() : null;
      if (peak !== null) console.error(`${peakKind} peak (all cores${vector ? `, ${vector} FMA` : ''}): ${peak.toFixed(1)} GFLOP/s; GEMMs in ${compute}, dropout ${dropout}`);
      const rows: ProfileRow[] = [];
      const refused: string[] = [];
      const failed: string[] = [];
      for (const size of sizes as ModelSize[]) {
        for (const batch of batches) {
          const c: ProfileCase = { size, batch, patches, steps, backend: o.backend, ops: !!o.ops, compute, dropout };
          try {
            console.error(`plan: ${planCase(c).line}`);
          } catch (e) {
            const msg = (e as Error).message;
            console.error(`refused: ${msg}`);
            refused.push(msg);
            continue;
          }
          try {
            const r = await runCase(c, !!o.inProcess, log);
            rows.push({ ...r, ofPeak: peak ? r.gflops / peak : null });
          } catch (e) {
            // One failing case (a backend that cannot load, a worker killed for memory) must not lose the others.
            const msg = `${size} B=${batch}: ${(e as Error).message}`;
            console.error(`failed: ${msg}`);
            failed.push(msg);
          }
        }
      }
      console.log(profileTable(rows));
      if (o.ops) console.log(`\n${opsTable(rows)}`);
      for (const r of refused) console.log(`refused: ${r}`);
      for (const f of failed) console.log(`failed: ${f}`);
      if (o.json) {
        // fp32 runs keep their old field; bf16 ones say which instruction's peak it is ('amx' or 'bf16').
        // A measured fp32 peak also names its vectors (zmm, or ymm on an AVX2-only CPU).
        const fp32Vector = vector && o.peak === undefined ? { fp32PeakVector: vector } : {};
        const peakField = peakKind === 'fp32' ? { fp32PeakGflops: peak, ...fp32Vector }
          : { bf16PeakGflops: peak, bf16PeakInstruction: peakKind };
        writeFileAtomic(o.json, JSON.stringify({ date: new Date().toISOString(), compute, dropout, ...peakField, rows, refused, failed }, null, 2));
      }
      if (o.svg) writeFileAtomic(o.svg, await profileSvg(rows));
      if (failed.length > 0) throw new Error(`${failed.length} profile case(s) failed (see above)`);
    });
}
