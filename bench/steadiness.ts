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
//
// Two probes see only the edges of a figure. A host that takes a core in bursts can be calm at both while most
// of the calls between them ran slowed: on an AMD EPYC Zen 3 (2026-12-06) the bench's 19m step at B = 8 stood
// at 303 ms a step (45% of the peak) between calm probes (a later run's, at 345 ms, its probes caught), where
// the same step alone took 195-238 ms in the calmer minutes of that afternoon (median of 12 steps; 1.01-1.17x
// the fastest of them).
// Such a figure shows in its own calls: its median lies well above its faster calls, which stay within about
// 15% of the median on a calm host once warm. So a figure whose median call took more than `spread` (1.25) times
// its 10th-percentile call is measured again after a pause too. Every side reports both (measure.ts, peers.py,
// gemm_peers.cc take the 10th percentile alike), so the rule holds for the engine and its peers alike. A figure
// whose calls still spread after the retries while its probes were calm may be a side that varies by itself
// (PyTorch's attention at T = 256 did from run to run): the calm attempt with the lowest median stands, and the
// figure is listed as such in the document, which it does not stop.
//
// Each comparison takes its figures in turns, alternately with the other sides, and stands on the median turn.
// Turns that disagree by more than the same 1.25x (slowest over fastest) are listed in the document beside the
// retried figures: one regenerated Zen 3 record had the engine's 19m step at 763, 1012 and 935 ms in its three
// turns, every one of them between calm probes with its own calls within 1.25x, and a reader of the median
// alone would not know. A comparison whose turns are seconds (a GEMM shape) takes two more turns of every side
// when some side's three disagree (`takeTurns`): of three turns, two slowed ones make the median; of five, it
// takes three. One whose turns are minutes (the step) keeps its three. Turns that still disagree are listed
// all the same.
//
// A figure taken on one thread (gemm-one-thread) is probed on one thread, against the one-thread peak: the
// all-core probe reads half whenever the host takes either vCPU, and so retried one-thread figures whose own
// core had stayed free (52 retries in the first gemm-one-thread run on a Zen 3, 2026-12-06), while a one-thread
// probe reads what one thread gets, which is what such a figure needs.
import { measurePeak } from '../src/profile/peak';

/**
 * A figure's median call and its 10th-percentile call (the fastest below ten calls), for the spread rule; null:
 * the side reported none (a failed peer). Not the fastest call: among the hundreds of a short figure it is an
 * outlier (the engine's attention at T = 30, ~600 calls on a Zen 3: median 1.07-1.14× the 10th percentile
 * but 1.17-1.25× the fastest, in the same figures).
 */
export interface CallSpread {
  medianMs: number;
  fastMs: number;
}

/** Probes below this fraction of the run's peak mark a figure as disturbed. */
export const STEADY_THRESHOLD = 0.75;
/** A figure whose median call took more than this multiple of its 10th-percentile call is measured again. */
export const STEADY_SPREAD = 1.25;

/** Which probe guards a figure: the all-core loop (figures on every core) or the one-thread loop. */
export type ProbeWidth = 'all' | 'one';

export interface SteadyOptions {
  /** GFLOP/s of a short all-core probe, or null when the probe cannot run (a quick run). */
  probe: () => number | null;
  /** The run's all-core fp32 peak; a probe below `threshold` of it marks the host as disturbed. */
  reference: number | null;
  /** The one-thread probe and peak for figures taken on one thread; without them such figures take the all-core probe. */
  one?: { probe: () => number | null; reference: number | null };
  threshold?: number;
  /** Most a figure's median call may take, as a multiple of its 10th-percentile call, before it is measured again. */
  spread?: number;
  retries?: number;
  /** Pause before a retry; bursts last tens of seconds. */
  waitMs?: number;
  sleep?: (ms: number) => void;
  log: (msg: string) => void;
}

export interface SteadyGuard {
  /**
   * Runs `measure` between two probes; again (up to the retries) while a probe says the host was disturbed or,
   * given `calls`, while the figure's median call took more than `spread` times its 10th-percentile call.
   */
  <T>(what: string, measure: () => T, calls?: (result: T) => CallSpread | null, width?: ProbeWidth): T;
  /** Figures still measured on a disturbed host after every retry. */
  readonly disturbed: string[];
  /** Figures that needed at least one retry. */
  readonly retried: string[];
  /** Figures whose calls still spread after every retry, on a calm host (the calm attempt with the lowest median stands). */
  readonly spread: string[];
  /** Figures whose turns (the medians of their alternated turns) disagreed by more than `spread`, with the turns. */
  readonly unevenTurns: string[];
  /** Whether a figure's turns (ms) disagree: the slowest took more than `spread` times the fastest (unknown turns aside). */
  disagree(turnsMs: readonly number[]): boolean;
  /** Records a figure's turns (ms); lists it in unevenTurns when they disagree. */
  turns(what: string, turnsMs: readonly number[]): void;
  /** The highest probe seen (GFLOP/s) of that width (default all cores), or null before any: evidence of the peak (suites/peak.ts: finalPeaks). */
  bestProbe(width?: ProbeWidth): number | null;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function steadyGuard(o: SteadyOptions): SteadyGuard {
  const threshold = o.threshold ?? STEADY_THRESHOLD, spreadMax = o.spread ?? STEADY_SPREAD;
  const retries = o.retries ?? 4, waitMs = o.waitMs ?? 15_000, sleep = o.sleep ?? sleepSync;
  const disturbed: string[] = [], retried: string[] = [], spread: string[] = [];
  const best: Record<ProbeWidth, number | null> = { all: null, one: null };
  const source = (width: ProbeWidth) => (width === 'one' && o.one ? o.one : o);
  // The width whose probes a figure of `width` takes (one-thread figures fall back to the all-core probe).
  const used = (width: ProbeWidth): ProbeWidth => (width === 'one' && o.one ? 'one' : 'all');
  const probe = (width: ProbeWidth) => {
    const g = source(width).probe();
    if (g !== null && Number.isFinite(g)) best[width] = Math.max(best[width] ?? 0, g);
    return g;
  };
  // Against the run's peak, or a probe that beat it (a peak measured on a slowed host is too lenient a bar).
  const peak = (width: ProbeWidth) => {
    const ref = source(width).reference;
    return ref === null ? null : Math.max(ref, best[width] ?? 0);
  };
  const calm = (g: number | null, width: ProbeWidth) => {
    const ref = peak(width);
    return g === null || ref === null || g >= threshold * ref;
  };
  const guard = <T>(what: string, measure: () => T, calls?: (result: T) => CallSpread | null, asked: ProbeWidth = 'all'): T => {
    const width = used(asked);
    const peakName = width === 'one' ? 'a one-thread peak' : 'a peak';
    // The calm attempts whose calls spread: the one with the lowest median stands if no attempt is clean.
    let spreadBest: { result: T; medianMs: number; seen: string } | null = null;
    for (let attempt = 0; ; attempt++) {
      const before = probe(width);
      const result = measure();
      const after = probe(width);
      // Only a run that probes applies the spread rule: a --quick run (no probe) takes every figure once.
      const c = calls && (before !== null || after !== null) ? calls(result) : null;
      const wide = c !== null && Number.isFinite(c.medianMs) && Number.isFinite(c.fastMs) && c.fastMs > 0 && c.medianMs > spreadMax * c.fastMs;
      const still = calm(before, width) && calm(after, width);
      if (still && !wide) return result;
      const seen = still
        ? `its median call took ${(c!.medianMs / c!.fastMs).toFixed(2)}× its 10th percentile (${c!.medianMs.toFixed(1)} against ${c!.fastMs.toFixed(1)} ms)`
        : `probes ${before?.toFixed(0)} and ${after?.toFixed(0)} GFLOP/s against ${peakName} of ${peak(width)?.toFixed(0)}`;
      if (still && (spreadBest === null || c!.medianMs < spreadBest.medianMs)) spreadBest = { result, medianMs: c!.medianMs, seen };
      if (attempt >= retries) {
        if (spreadBest !== null) {
          o.log(`${what}: its calls still spread after ${retries} retries (${spreadBest.seen}); the calm attempt with the lowest median stands, listed`);
          spread.push(what);
          return spreadBest.result;
        }
        o.log(`${what}: the host was still taking a core after ${retries} retries (${seen}); the figure stands, marked`);
        disturbed.push(what);
        return result;
      }
      if (attempt === 0) retried.push(what);
      o.log(`${what}: ${still ? 'slowed part of the way through' : 'the host took a core while it was measured'} (${seen}); measuring again in ${(waitMs / 1000).toFixed(0)} s`);
      sleep(waitMs);
    }
  };
  const unevenTurns: string[] = [];
  const known = (turnsMs: readonly number[]) => turnsMs.filter((t) => Number.isFinite(t) && t > 0);
  const disagree = (turnsMs: readonly number[]) => {
    const k = known(turnsMs);
    return k.length >= 2 && Math.max(...k) > spreadMax * Math.min(...k);
  };
  const turns = (what: string, turnsMs: readonly number[]) => {
    if (!disagree(turnsMs)) return;
    const k = known(turnsMs), lo = Math.min(...k), hi = Math.max(...k);
    const detail = `${k.map((t) => (t >= 10 ? t.toFixed(0) : t.toFixed(2))).join(', ')} ms: ${(hi / lo).toFixed(2)}×`;
    o.log(`${what}: its turns disagreed by more than ${spreadMax}× (${detail}); the median turn stands, listed`);
    unevenTurns.push(`${what} (${detail})`);
  };
  return Object.assign(guard, { disturbed, retried, spread, unevenTurns, disagree, turns, bestProbe: (width: ProbeWidth = 'all') => best[width] });
}

/**
 * A comparison's turns: `rounds` turns of every side (`turn(r)`), and when `uneven()` then counts sides whose
 * turns disagree (`SteadyGuard.disagree`), more turns of every side up to `maxRounds` (`onExtra` hears how
 * many first). Taken together, not one by one while they disagree: a turn added to turns that disagree never
 * makes them agree (slowest over fastest only grows). Returns the number of turns taken.
 */
export function takeTurns(o: { rounds: number; maxRounds: number; turn: (r: number) => void; uneven: () => number; onExtra?: (extra: number, uneven: number) => void }): number {
  for (let r = 0; r < o.rounds; r++) o.turn(r);
  if (o.maxRounds <= o.rounds) return o.rounds;
  const uneven = o.uneven();
  if (uneven === 0) return o.rounds;
  o.onExtra?.(o.maxRounds - o.rounds, uneven);
  for (let r = o.rounds; r < o.maxRounds; r++) o.turn(r);
  return o.maxRounds;
}

/** The probe the bench uses: 0.1 s of the fp32 FMA loop on `threads` threads (all cores, or one for one-thread figures). */
export function fmaProbe(threads: number): () => number | null {
  return () => measurePeak('fp32', threads, 0.1).gflops;
}

/** A run with disturbed figures does not regenerate BENCHMARKS.md (unless --allow-disturbed says so). */
export function refuseDisturbed(file: string, disturbed: readonly string[], allowed: boolean): void {
  if (disturbed.length === 0 || allowed) return;
  throw new Error(`not writing ${file}: ${disturbed.length} figure(s) were measured while the host took a core, even after ` +
    `retries (${disturbed.slice(0, 3).join('; ')}${disturbed.length > 3 ? '; …' : ''}); run again later or pass --allow-disturbed`);
}
