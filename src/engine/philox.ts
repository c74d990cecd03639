// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a counter-based
// generator, so a dropout mask is a pure function of (seed, step, site, element index) and every backend
// (TypeScript, C++, CUDA, WGSL) draws the identical mask without sharing any state.
// Mapping used everywhere: key = (seed mod 2^32, floor(seed / 2^32)), counter = (floor(i/4), 0, step, site),
// element i takes word i mod 4 of the block; keep iff (word >>> 8) ≥ ceil(p·2^24) (an integer
// threshold, so float32 and float64 backends agree exactly).
import type { DropoutKey } from './backend';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 (exact, via 16-bit limbs). */
function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16;
  const b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** One Philox4x32-10 block: writes the 4 output words into `out`. */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let key0 = k0 >>> 0, key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      key0 = (key0 + W0) >>> 0;
      key1 = (key1 + W1) >>> 0;
    }
    const hi0 = mulhi(M0, x0), lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2), lo1 = Math.imul(M1, x2) >>> 0;
    const y0 = (hi1 ^ x1 ^ key0) >>> 0;
    const y2 = (hi0 ^ x3 ^ key1) >>> 0;
    x0 = y0; x1 = lo1; x2 = y2; x3 = lo0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
}

export function dropoutKeyWords(key: DropoutKey): [number, number] {
  if (!Number.isSafeInteger(key.seed) || key.seed < 0) throw new Error(`dropout: seed must be a non-negative integer, got ${key.seed}`);
  return [key.seed >>> 0, Math.floor(key.seed / 4294967296) >>> 0];
}

/** The integer keep threshold for drop probability p in [0, 1). */
export function dropoutThreshold(p: number): number {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  return Math.ceil(p * 16777216);
}

/**
 * Fills keep[i] (1 keep, 0 drop) for elements [start, start + keep.length) of the mask identified by key.
 * Used by the reference backend and by tests; native backends implement the same mapping.
 */
export function dropoutMask(key: DropoutKey, p: number, start: number, keep: Uint8Array): void {
  const [k0, k1] = dropoutKeyWords(key);
  const threshold = dropoutThreshold(p);
  const words = new Uint32Array(4);
  let block = -1;
  for (let j = 0; j < keep.length; j++) {
    const i = start + j;
    const b = Math.floor(i / 4);
    if (b !== block) {
      philox4x32(b >>> 0, 0, key.step >>> 0, key.site >>> 0, k0, k1, words);
      block = b;
    }
    keep[j] = words[i % 4] >>> 8 >= threshold ? 1 : 0;
  }
}
