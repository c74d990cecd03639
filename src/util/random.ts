// Seeded randomness for everything that must be reproducible (initialisation, data, sampling, tests):
// pure-rand's xoroshiro128+ underneath, with the few distributions the project needs on top.
import prand from 'pure-rand';

export class Rng {
  private readonly gen: ReturnType<typeof prand.xoroshiro128plus>;
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`Rng: seed must be an integer, got ${seed}`);
    // xoroshiro128plus takes a 32-bit seed; fold the high bits in so that seeds ≥ 2^32 still differ.
    this.gen = prand.xoroshiro128plus((seed ^ Math.floor(seed / 4294967296)) | 0);
  }

  /** Uniform uint32. */
  uint32(): number {
    return prand.unsafeUniformIntDistribution(0, 0xffffffff, this.gen) >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return prand.unsafeUniformIntDistribution(0, n - 1, this.gen);
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fillNormal(out: Float32Array, std = 1, mean = 0): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  fillUniform(out: Float32Array, lo = 0, hi = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[] | Int32Array): T[] | Int32Array {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
