// Guards each measurement against the host taking a core away. These machines are vCPUs of a shared host: now
// and then, for tens of seconds, a neighbour's load takes one of the two cores, and whatever is timed then runs
// at about half speed (seen in one bench run: eight GEMM rows in a row at 44% of the peak where their
// neighbours ran at 80%). Neither the load average nor the steal time shows it, but a short run of the
// register-only peak loop on every core does: it is measured before and after each figure, and a figure whose
// probes fall below a fraction of the run's peak (75%) is measured again after a pause. The fraction leaves room
// for the host's ordinary swing: on an Intel day the 0.1 s all-core probe read 362-417 GFLOP/s in twenty tries
// on a quiet host, against a run peak of 436, and a bar at 85% retried most figures four times for nothing,
// while a core taken away reads about half. A figure still disturbed after the retries is reported as such, and
// BENCHMARKS.md is then not regenerated from the run.
import { measurePeak } from '../src/profile/peak';

export interface SteadyOptions {
  /** GFLOP/s of a short all-core probe, or null when the probe cannot run (no AVX-512). */
  probe: () => number | null;
  /** The run's all-core fp32 peak; a probe below `threshold` of it marks the host as disturbed. */
  reference: number | null;
  threshold?: number;
  retries?: number;
  /** Pause before a retry; bursts last tens of seconds. */
  waitMs?: number;
  sleep?: (ms: number) => void;
  log: (msg: string) => void;
}

export interface SteadyGuard {
  /** Runs `measure` between two probes; again (up to the retries) while a probe says the host was disturbed. */
  <T>(what: string, measure: () => T): T;
  /** Figures still measured on a disturbed host after every retry. */
  readonly disturbed: string[];
  /** Figures that needed at least one retry. */
  readonly retried: string[];
  /** The highest probe seen (GFLOP/s), or null before any: evidence of the peak (suites/peak.ts: finalPeaks). */
  bestProbe(): number | null;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function steadyGuard(o: SteadyOptions): SteadyGuard {
  const threshold = o.threshold ?? 0.75, retries = o.retries ?? 4, waitMs = o.waitMs ?? 15_000, sleep = o.sleep ?? sleepSync;
  const disturbed: string[] = [], retried: string[] = [];
  let best: number | null = null;
  const probe = () => {
    const g = o.probe();
    if (g !== null && Number.isFinite(g)) best = Math.max(best ?? 0, g);
    return g;
  };
  // Against the run's peak, or a probe that beat it (a peak measured on a slowed host is too lenient a bar).
  const peak = () => (o.reference === null ? null : Math.max(o.reference, best ?? 0));
  const calm = (g: number | null) => {
    const ref = peak();
    return g === null || ref === null || g >= threshold * ref;
  };
  const guard = <T>(what: string, measure: () => T): T => {
    for (let attempt = 0; ; attempt++) {
      const before = probe();
      const result = measure();
      const after = probe();
      if (calm(before) && calm(after)) return result;
      const seen = `probes ${before?.toFixed(0)} and ${after?.toFixed(0)} GFLOP/s against a peak of ${peak()?.toFixed(0)}`;
      if (attempt >= retries) {
        o.log(`${what}: the host was still taking a core after ${retries} retries (${seen}); the figure stands, marked`);
        disturbed.push(what);
        return result;
      }
      if (attempt === 0) retried.push(what);
      o.log(`${what}: the host took a core while it was measured (${seen}); measuring again in ${(waitMs / 1000).toFixed(0)} s`);
      sleep(waitMs);
    }
  };
  return Object.assign(guard, { disturbed, retried, bestProbe: () => best });
}

/** The probe the bench uses: 0.1 s of the fp32 FMA loop on `threads` threads. */
export function fmaProbe(threads: number): () => number | null {
  return () => measurePeak('fp32', threads, 0.1).gflops;
}

/** A run with disturbed figures does not regenerate BENCHMARKS.md (unless --allow-disturbed says so). */
export function refuseDisturbed(file: string, disturbed: readonly string[], allowed: boolean): void {
  if (disturbed.length === 0 || allowed) return;
  throw new Error(`not writing ${file}: ${disturbed.length} figure(s) were measured while the host took a core, even after ` +
    `retries (${disturbed.slice(0, 3).join('; ')}${disturbed.length > 3 ? '; …' : ''}); run again later or pass --allow-disturbed`);
}
