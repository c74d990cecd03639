// Runs bench/python/peers.py with the system Python's PyTorch under a given thread configuration.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { packageRoot } from '../src/profile/native-tools';
import { KEEP_FREED_MEMORY, peerEnv } from './peer-env';

export const PYTHON = process.env.FAIRTUNE_PYTHON ?? '/usr/bin/python3';

export interface ThreadConfig {
  torch: number;
  openblas: number;
}

/** What every peers.py result carries besides its timings: which BLAS kernel ran and the warm-up used. */
export interface TorchRun {
  blas_kernel: string;
  warmup: number;
}

/** "kernel SkylakeX, warm-up 5" for a row's note. */
export function torchRunNote(r: TorchRun): string {
  return `OpenBLAS kernel ${r.blas_kernel}, warm-up ${r.warmup}`;
}

export function threadLabel(t: ThreadConfig): string {
  return `torch threads ${t.torch}, OpenBLAS threads ${t.openblas}`;
}

/** The configurations tried; DESIGN.md section 7 found torch 1 + OpenBLAS 2 best for this model. */
export const TORCH_CONFIGS: ThreadConfig[] = [{ torch: 1, openblas: 2 }, { torch: 2, openblas: 2 }, { torch: 2, openblas: 1 }];

/** The environment of a PyTorch peer: the handicaps removed, freed memory kept, the thread counts set. */
export function torchPeerEnv(threads: ThreadConfig): NodeJS.ProcessEnv {
  return peerEnv({ ...KEEP_FREED_MEMORY, PYTHONDONTWRITEBYTECODE: '1', OPENBLAS_NUM_THREADS: String(threads.openblas), OMP_NUM_THREADS: String(threads.torch) });
}

/** Null (with the reason in `skipped`) when Python or torch is unavailable; throws when the script fails. */
export function runTorchPeer<T>(args: string[], threads: ThreadConfig, timeoutMs: number): { result: T | null; skipped?: string } {
  const script = path.join(packageRoot(), 'bench', 'python', 'peers.py');
  const env = torchPeerEnv(threads);
  const r = spawnSync(PYTHON, [script, ...args], { encoding: 'utf8', env, timeout: timeoutMs });
  if (r.error) return { result: null, skipped: `cannot run ${PYTHON}: ${r.error.message}` };
  if (r.status !== 0) {
    if (/No module named 'torch'/.test(r.stderr)) return { result: null, skipped: `${PYTHON} has no torch (apt-get install python3-torch)` };
    throw new Error(`peers.py ${args.join(' ')} failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  return { result: JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as T };
}
