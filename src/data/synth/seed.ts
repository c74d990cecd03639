// Seeds for independent random streams. Every subject (and every recording of a subject) gets its own
// stream derived from the cohort seed and its index, so that changing the number of subjects or the
// recording length never changes what the other subjects look like.
import { Rng } from '../../util/random';

/** Mix a seed with labels into a 32-bit seed (a murmur3-style finaliser per step). */
export function deriveSeed(seed: number, ...labels: number[]): number {
  if (!Number.isSafeInteger(seed)) throw new Error(`deriveSeed: seed must be an integer, got ${seed}`);
  let h = (seed ^ Math.floor(seed / 4294967296)) >>> 0;
  for (const l of [0x9e3779b9, ...labels]) {
    h = (h ^ (l >>> 0)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** Stream labels, so that two uses of the same subject index never share a stream. */
export const Stream = { cohort: 1, subject: 2, recording: 3, episodes: 4 } as const;

export function streamRng(seed: number, ...labels: number[]): Rng {
  return new Rng(deriveSeed(seed, ...labels));
}
