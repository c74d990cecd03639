// Seeded random data for tests: the same seed gives the same numbers on every run and machine, so a failing
// case can be replayed. A small counter-free generator (mulberry32) is enough here; quality matters less
// than reproducibility and independence from library version changes.

/** A uniform generator on [0, 1) with 32 bits of state. */
export function uniformSource(seed: number): () => number {
  let s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n standard-normal values (Box–Muller) times scale. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const u = uniformSource(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const a = 2 * Math.PI * u();
    out[i] = r * Math.cos(a) * scale;
    if (i + 1 < n) out[i + 1] = r * Math.sin(a) * scale;
  }
  return out;
}

/** n uniform values in [lo, hi). */
export function randUniform(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const u = uniformSource(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * u();
  return out;
}

/** n integers in [0, max), as float32 (the engine's convention for group ids and labels). */
export function randInts(n: number, max: number, seed: number): Float32Array {
  if (!(Number.isInteger(max) && max >= 1)) throw new Error(`randInts: max must be a positive integer, got ${max}`);
  const u = uniformSource(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(u() * max);
  return out;
}

/** mulberry32 seeded from the raw seed (the backend comparison tests' generator, so failures reproduce). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [lo, hi) from `rand`. */
export function randomArray(n: number, rand: () => number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}
