// The one table of op cases every backend is checked against the reference with (test/conformance/ops.test.ts).
// A case names its tensors (shape and how to fill them: random in a range, a constant, or given values),
// runs one op or a forward/backward pair on any backend, and says which tensors to compare afterwards.
// Backward outputs start non-zero, so accumulation (dx += …) is checked everywhere. Shapes cover:
//  - the real layer shapes of every model size (19m, 85m, 345m and 1b widths at a small token count N);
//  - sizes that fit no tile or vector width, and the degenerate ones (T = 0, S = 1, N = 1);
//  - large magnitudes (×1e3, offsets of 50) and ops run in place.
import type { AttentionDropout, Backend, DropoutKey } from '../../src/engine/backend';
import type { Tensor } from '../../src/engine/tensor';
import { MODEL_SIZES } from '../../src/model/config';

export interface TensorSpec {
  shape: number[];
  /** Uniform in [lo, hi) (default [-1, 1)) unless `fill` or `values` is given. */
  lo?: number;
  hi?: number;
  fill?: number;
  values?: (i: number) => number;
}

export interface OpCase {
  /** The op family (for per-backend tolerances and support) and a label with its shapes. */
  op: string;
  label: string;
  seed: number;
  tensors: Record<string, TensorSpec>;
  /** Tensors compared after the run, with the fp32 tolerance of each (default 1e-4). */
  compare: Record<string, number>;
  /** Calls the op(s); a returned number is compared with the reference's (relative `scalarRtol`). */
  run(be: Backend, t: Record<string, Tensor>): number | void;
  scalarRtol?: number;
  /** Goes through the GEMM (the bf16 compute mode loosens these). */
  gemm?: boolean;
  /** Head dim of an attention case (backends may support only up to a limit). */
  headDim?: number;
  /**
   * A 1b-width GEMM (16M weights): run on each backend's default lane only. The other lanes run the same tile
   * code at the 85m and 345m shapes, and filling and comparing 16M-element arrays costs seconds per lane under
   * jest (minutes in the CUDA emulator).
   */
  heavy?: boolean;
}

const R = (shape: number[], lo = -1, hi = 1): TensorSpec => ({ shape, lo, hi });
const Z = (shape: number[]): TensorSpec => ({ shape, fill: 0 });
const F = (shape: number[], fill: number): TensorSpec => ({ shape, fill });
const V = (shape: number[], values: (i: number) => number): TensorSpec => ({ shape, values });
const key: DropoutKey = { seed: 2 ** 40 + 12345, step: 77, site: 3 };

let seed = 1;
const cases: OpCase[] = [];
function add(c: Omit<OpCase, 'seed'>): void {
  cases.push({ ...c, seed: seed++ });
}

/** The widths of every model size (D, heads, the MLP's 4D; the HR head spans S·D = 11·D at T = 10). */
const SIZES = Object.entries(MODEL_SIZES).filter(([n]) => n !== 'tiny').map(([name, c]) => ({ name, D: c.dim, H: c.heads, F: c.dim * 4 }));

// ---- linear: odd sizes, every model size's projections and MLP, the HR head's long K ----
const linearShapes: [number, number, number, string, boolean][] = [
  [1, 1, 1, '', false], [7, 13, 17, '', false], [2, 40, 12, '', false], [31, 20, 65, '', false], [33, 64, 96, '', false],
  [5, 300, 3, '', false], [97, 129, 33, '', false], [9, 520, 70, '', false], [130, 40, 600, '', false],
  // dW and db contract over the tokens: 70000 of them outrun llvmpipe's loop limit unless webgpu slices them
  // (src/engine/webgpu/loop-budget.ts; unsliced, dW was 40× off from 40000 tokens on).
  [70000, 4, 3, ' (dW, db over 70000 tokens)', false],
];
for (const s of SIZES) {
  // N = 2 at the widest sizes: the float64 reference's time grows with N, the weights' size does not.
  const N = s.D >= 1024 ? 2 : 5;
  const huge = s.D >= 2048;
  linearShapes.push([N, s.D, s.D, ` (${s.name} attention projection)`, huge]);
  linearShapes.push([N, s.D, s.F, ` (${s.name} linear1)`, huge]);
  linearShapes.push([Math.min(N, 3), s.F, s.D, ` (${s.name} linear2)`, huge]);
  linearShapes.push([2, 11 * s.D, 2, ` (${s.name} HR head, K = S·D)`, false]);
}
for (const [N, K, M, what, heavy] of linearShapes) {
  for (const mag of N * K * M < 1e6 ? [1, 1e3] : [1]) {
    add({
      op: 'linear', label: `N=${N} K=${K} M=${M}${what}${mag !== 1 ? ' ×1e3, no bias' : ''}`, gemm: true, heavy,
      tensors: { x: R([N, K], -mag, mag), w: R([M, K]), b: R([M]), y: F([N, M], 7), dy: R([N, M]), dx: R([N, K]), dw: R([M, K]), db: R([M]) },
      compare: { y: 1e-4, dx: 1e-4, dw: 1e-4, db: 1e-4 },
      run: (be, t) => {
        be.linear(t.x, t.w, mag === 1 ? t.b : null, t.y);
        be.linearBackward(t.dy, t.x, t.w, t.dx, t.dw, mag === 1 ? t.db : null);
      },
    });
  }
}
// relu fused into the epilogue: edge shapes, a long K (several KC blocks on the CPU, the dot kernel on CUDA),
// the 19m MLP's linear1; y starts as NaN (it is an output, never read).
for (const [N, K, M, bias] of [[1, 1, 1, true], [7, 13, 17, true], [33, 300, 65, false], [31, 512, 2048, true], [3, 3000, 2, true]] as [number, number, number, boolean][]) {
  add({
    op: 'linear', label: `forward with relu fused N=${N} K=${K} M=${M}${bias ? '' : ', no bias'}`, gemm: true,
    tensors: { x: R([N, K]), w: R([M, K], -0.2, 0.2), b: R([M]), y: F([N, M], NaN) },
    compare: { y: 1e-4 },
    run: (be, t) => be.linear(t.x, t.w, bias ? t.b : null, t.y, true),
  });
}
// Dropout after the product (and the relu), in place: the mask the dropout op draws over y as one tensor.
// Ragged shapes (M odd: rows start at every offset within a Philox block), a long K (several KC blocks on the
// CPU), the 19m linear1; y starts as NaN.
for (const [N, K, M, relu, p] of [
  [1, 1, 1, true, 0.5], [7, 13, 17, true, 0.1], [33, 300, 65, false, 0.3], [31, 512, 2048, true, 0.1], [5, 2100, 37, true, 0.5],
  [130, 40, 600, false, 0.1],
] as [number, number, number, boolean, number][]) {
  add({
    op: 'linear', label: `forward with dropout p=${p}${relu ? ' after relu' : ''} N=${N} K=${K} M=${M}`, gemm: true,
    tensors: { x: R([N, K]), w: R([M, K], -0.2, 0.2), b: R([M]), y: F([N, M], NaN) },
    compare: { y: 1e-4 },
    run: (be, t) => be.linear(t.x, t.w, t.b, t.y, relu, { p, key: { seed: 11, step: 3, site: 7 } }),
  });
}
for (const [N, K, M] of [[7, 13, 17], [31, 512, 2048], [31, 2048, 512]]) {
  add({
    op: 'linear', label: `backward overwriting dx (a fresh activation gradient) N=${N} K=${K} M=${M}`, gemm: true,
    tensors: { x: R([N, K]), w: R([M, K]), dy: R([N, M]), dx: F([N, K], 9), dw: R([M, K]), db: R([M]) },
    compare: { dx: 1e-4, dw: 1e-4, db: 1e-4 },
    run: (be, t) => be.linearBackward(t.dy, t.x, t.w, t.dx, t.dw, t.db, true),
  });
}
// The relu backward fused into dx's epilogue (reluOf): x is itself a relu output, about half exact zeros, and
// gates dx as in the MLP without dropout; dx starts as NaN (overwritten, never read). A long M (dx's
// contraction) runs several KC blocks on the CPU (1024 long with AVX-512) before the gate applies.
for (const [N, K, M] of [[1, 1, 1], [7, 13, 17], [33, 300, 65], [31, 2048, 512], [9, 40, 2300]]) {
  add({
    op: 'linear', label: `backward with the relu backward fused into dx N=${N} K=${K} M=${M}`, gemm: true,
    tensors: {
      x: V([N, K], (i) => Math.max(0, Math.sin(1.7 * i + 0.3))), w: R([M, K]), dy: R([N, M]), dx: F([N, K], NaN), dw: R([M, K]),
      db: R([M]),
    },
    compare: { dx: 1e-4, dw: 1e-4, db: 1e-4 },
    run: (be, t) => be.linearBackward(t.dy, t.x, t.w, t.dx, t.dw, t.db, true, t.x),
  });
}
// The relu backward through a dropout (reluOf = the dropout's output, reluScale = 1/(1 − p)): x has the zeros
// of both the relu and the mask, and the kept values scaled; dx starts as NaN. The model's linear2 dx with
// dropout on, and edge shapes; a long M runs several KC blocks on the CPU before the gated, scaled store.
for (const [N, K, M] of [[1, 1, 1], [7, 13, 17], [33, 300, 65], [31, 2048, 512], [9, 40, 2300]]) {
  const s = 1 / (1 - 0.1);
  add({
    op: 'linear', label: `backward with the relu and dropout backward fused into dx (reluScale) N=${N} K=${K} M=${M}`, gemm: true,
    tensors: {
      x: V([N, K], (i) => (Math.sin(12.9898 * i) * 43758.5453 % 1 + 1) % 1 < 0.1 ? 0 : s * Math.max(0, Math.sin(1.7 * i + 0.3))),
      w: R([M, K]), dy: R([N, M]), dx: F([N, K], NaN), dw: R([M, K]), db: R([M]),
    },
    compare: { dx: 1e-4, dw: 1e-4, db: 1e-4 },
    run: (be, t) => be.linearBackward(t.dy, t.x, t.w, t.dx, t.dw, t.db, true, t.x, false, s),
  });
}
// dw and db overwritten (the step's first gradient of a layer's parameters): they start as NaN, so any read of
// their old values shows. A long N (dW's contraction) runs several KC blocks on the CPU, of which only the
// first may overwrite; 70000 tokens run in slices on webgpu, of which only the first may.
for (const [N, K, M, withDx] of [[1, 1, 1, true], [7, 13, 17, true], [31, 512, 2048, true], [2300, 40, 9, false], [70000, 4, 3, false]] as [number, number, number, boolean][]) {
  add({
    op: 'linear', label: `backward overwriting dw and db N=${N} K=${K} M=${M}${withDx ? '' : ', no dx'}`, gemm: true,
    tensors: { x: R([N, K]), w: R([M, K]), dy: R([N, M]), dx: R([N, K]), dw: F([M, K], NaN), db: F([M], NaN) },
    compare: withDx ? { dx: 1e-4, dw: 1e-4, db: 1e-4 } : { dw: 1e-4, db: 1e-4 },
    run: (be, t) => be.linearBackward(t.dy, t.x, t.w, withDx ? t.dx : null, t.dw, t.db, false, null, true),
  });
}
add({
  op: 'linear', label: 'backward with only dw wanted', gemm: true,
  tensors: { x: R([4, 6]), w: R([3, 6]), dy: R([4, 3]), dw: R([3, 6]) },
  compare: { dw: 1e-4 },
  run: (be, t) => be.linearBackward(t.dy, t.x, t.w, null, t.dw, null),
});

// ---- patch embedding (a GEMM over [B·T, P]) ----
for (const [B, T, P, D] of [[1, 1, 40, 12], [2, 3, 5, 20], [3, 30, 40, 16], [2, 10, 40, 512], [1, 10, 40, 2048]]) {
  add({
    op: 'patchEmbed', label: `B=${B} T=${T} P=${P} D=${D}`, gemm: true,
    tensors: { x: R([B, T * P], 0, 1), w: R([D, P]), b: R([D]), e: Z([B, T, D]), de: R([B, T, D]), dw: R([D, P]), db: R([D]), dx: R([B, T * P]) },
    compare: { e: 1e-4, dw: 1e-4, db: 1e-4, dx: 1e-4 },
    run: (be, t) => {
      be.patchEmbed(t.x, t.w, t.b, t.e);
      be.patchEmbedBackward(t.de, t.x, t.w, t.dw, t.db, t.dx);
    },
  });
}

// ---- start token (T = 0 included) ----
for (const [B, T, D] of [[1, 0, 12], [2, 1, 20], [3, 4, 12], [2, 10, 512]]) {
  add({
    op: 'startToken', label: `B=${B} T=${T} D=${D}`,
    tensors: { e: R([B, T, D]), token: R([D]), h: Z([B, T + 1, D]), dh: R([B, T + 1, D]), de: R([B, T, D]), dtoken: R([D]) },
    compare: { h: 0, de: 1e-4, dtoken: 1e-4 },
    run: (be, t) => {
      be.startToken(t.e, t.token, t.h);
      be.startTokenBackward(t.dh, t.de, t.dtoken);
    },
  });
}

// ---- norms: odd widths, every model width, the HR head's LayerNorm over S·D ----
// N = 70000: the scale gradient sums over more rows than one webgpu dispatch may loop over (loop-budget.ts).
const rmsShapes: [number, number][] = [
  [1, 12], [7, 20], [62, 64], [3, 1], [5, 130], [5, 300], [70000, 3], ...SIZES.map((s) => [5, s.D] as [number, number]),
];
for (const [N, D] of rmsShapes) {
  for (const mag of [1, 1e3]) {
    add({
      op: 'rmsNorm', label: `N=${N} D=${D}${mag !== 1 ? ' ×1e3' : ''}`,
      tensors: { x: R([N, D], -mag, mag), scale: R([D], 0.5, 1.5), y: Z([N, D]), rstd: Z([N]), dy: R([N, D]), dx: R([N, D]), ds: R([D]) },
      compare: { y: 1e-4, rstd: 1e-4, dx: 1e-4, ds: 1e-4 },
      run: (be, t) => {
        be.rmsNorm(t.x, t.scale, 1e-8, t.y, t.rstd);
        be.rmsNormBackward(t.dy, t.x, t.scale, t.rstd, t.dx, t.ds);
      },
    });
  }
}
for (const [N, C] of [[1, 12], [3, 93], [4, 620], [70000, 16], ...SIZES.map((s) => [2, 11 * s.D])]) {
  add({
    op: 'layerNorm', label: `N=${N} C=${C} (values in [40, 60])`,
    tensors: { x: R([N, C], 40, 60), gamma: R([C], 0.5, 1.5), beta: R([C]), y: Z([N, C]), mean: Z([N]), rstd: Z([N]), dy: R([N, C]), dx: R([N, C]), dg: R([C]), dbt: R([C]) },
    compare: { y: 1e-4, mean: 1e-4, rstd: 1e-4, dx: 2e-4, dg: 1e-4, dbt: 1e-4 },
    run: (be, t) => {
      be.layerNorm(t.x, t.gamma, t.beta, 1e-5, t.y, t.mean, t.rstd);
      be.layerNormBackward(t.dy, t.x, t.gamma, t.mean, t.rstd, t.dx, t.dg, t.dbt);
    },
  });
}

// ---- activations (ReLU also in place, as the model runs it) ----
for (const n of [1, 13, 70001]) {
  add({
    op: 'relu', label: `n=${n}, then in place`,
    tensors: { x: R([n], -4, 4), y: Z([n]), dy: R([n]), dx: R([n]), inplace: R([n], -4, 4) },
    compare: { y: 0, dx: 0, inplace: 0 },
    run: (be, t) => {
      be.relu(t.x, t.y);
      be.reluBackward(t.dy, t.y, t.dx);
      be.relu(t.inplace, t.inplace);
    },
  });
  add({
    op: 'gelu', label: `n=${n}`,
    tensors: { x: R([n], -6, 6), y: Z([n]), dy: R([n]), dx: R([n]) },
    compare: { y: 1e-5, dx: 1e-5 },
    run: (be, t) => {
      be.gelu(t.x, t.y);
      be.geluBackward(t.dy, t.x, t.dx);
    },
  });
}

// ---- dropout: the Philox mask must be the reference's bit for bit (a wrong kept element is off by x/(1−p)) ----
for (const [n, p] of [[1, 0.1], [7, 0.5], [4099, 0.1], [40009, 0.9], [33, 0]]) {
  add({
    op: 'dropout', label: `n=${n} p=${p}`,
    tensors: { x: R([n], 0.5, 1), y: Z([n]), dy: R([n]), dx: R([n]) },
    compare: { y: 1e-6, dx: 1e-6 },
    run: (be, t) => {
      be.dropout(t.x, t.y, p, key);
      be.dropoutBackward(t.dy, t.dx, p, key);
    },
  });
}

// ---- fused RoPE attention: S = 1, S off every tile, head dims 4 to 128, every model size's heads ----
const attnShapes: [number, number, number, number, string][] = [
  [1, 1, 12, 3, ''], [2, 5, 12, 3, ''], [1, 31, 64, 4, ''], [1, 70, 16, 1, ''], [2, 9, 40, 2, ''], [1, 33, 128, 2, ''], [2, 7, 24, 2, ''],
  [2, 40, 16, 4, ''], [3, 7, 48, 3, ''], [1, 33, 16, 2, ''], [1, 70, 128, 2, ''],
  // Head dims above 64 (lane pairs on CUDA): 128 as in the 1b model, 96, and 68 (odd halves of 34).
  [1, 37, 256, 2, ' (d = 128)'], [2, 9, 96, 1, ''], [1, 33, 136, 2, ''],
  ...SIZES.map((s) => [2, 11, s.D, s.H, ` (${s.name})`] as [number, number, number, number, string]),
  [1, 31, 512, 8, ' (19m, T = 30)'],
  // Either side of the CPU's switch from the whole-matrix path (S <= 320) to the tiled one (64/65: where the
  // switch was until 2026-12-03).
  [1, 64, 32, 2, ''], [2, 65, 64, 2, ''], [1, 320, 32, 2, ''], [1, 321, 32, 2, ''],
  // The tiled path at the models' head sizes (d = 64, 128) and a padded d (68). On webgpu these also run the
  // key and query loops in slices (loop-budget.ts): unsliced, llvmpipe cut the loops short and left the last
  // query blocks unwritten from S = 224 at d = 128 and S = 480 at d = 64 (hence S = 500).
  [2, 333, 136, 2, ''], [1, 322, 128, 2, ''], [1, 330, 256, 2, ' (d = 128)'], [1, 500, 128, 2, ' (d = 64)'],
];
for (const [B, S, D, H, what] of attnShapes) {
  for (const drop of [undefined, { p: 0.2, key: { seed: 5, step: 9, site: 2 } }] as (AttentionDropout | undefined)[]) {
    add({
      op: 'ropeAttention', label: `B=${B} S=${S} D=${D} H=${H}${what}${drop ? ', dropout 0.2' : ''}`, headDim: D / H,
      tensors: {
        q: R([B, S, D], -2, 2), k: R([B, S, D], -2, 2), v: R([B, S, D]), out: Z([B, S, D]), lse: Z([B, H, S]),
        dout: R([B, S, D]), dq: R([B, S, D]), dk: R([B, S, D]), dv: R([B, S, D]),
      },
      compare: { out: 2e-4, lse: 2e-4, dq: 2e-4, dk: 2e-4, dv: 2e-4 },
      run: (be, t) => {
        be.ropeAttention(t.q, t.k, t.v, H, t.out, t.lse, drop);
        be.ropeAttentionBackward(t.dout, t.q, t.k, t.v, t.out, t.lse, H, t.dq, t.dk, t.dv, drop);
      },
    });
  }
}

// Overwriting the gradients (the model's fresh dq, dk, dv): they start as NaN, which must never be read.
// S = 330 at d = 128 overwrites in its first slice on webgpu and adds in the later ones.
for (const [B, S, D, H] of [[2, 9, 24, 2], [1, 40, 64, 1], [1, 37, 256, 2], [2, 11, 512, 8], [1, 330, 256, 2]] as [number, number, number, number][]) {
  for (const drop of [undefined, { p: 0.2, key: { seed: 5, step: 9, site: 2 } }] as (AttentionDropout | undefined)[]) {
    add({
      op: 'ropeAttention', label: `backward overwriting dq, dk, dv B=${B} S=${S} D=${D} H=${H}${drop ? ', dropout 0.2' : ''}`, headDim: D / H,
      tensors: {
        q: R([B, S, D], -2, 2), k: R([B, S, D], -2, 2), v: R([B, S, D]), out: Z([B, S, D]), lse: Z([B, H, S]),
        dout: R([B, S, D]), dq: F([B, S, D], NaN), dk: F([B, S, D], NaN), dv: F([B, S, D], NaN),
      },
      compare: { dq: 2e-4, dk: 2e-4, dv: 2e-4 },
      run: (be, t) => {
        be.ropeAttention(t.q, t.k, t.v, H, t.out, t.lse, drop);
        be.ropeAttentionBackward(t.dout, t.q, t.k, t.v, t.out, t.lse, H, t.dq, t.dk, t.dv, drop, true);
      },
    });
  }
}

// With a reserve (the model's training plans at S <= 128): the CPU forward keeps its probabilities there and the
// backward reads them instead of recomputing (other backends leave it alone). It starts as NaN, so a backward
// reading an entry its forward did not write fails. Both gradient modes; S = 330 and the padded d = 68 run the
// CPU's whole-matrix path past its usual limit (a reserve sends every S there).
for (const [B, S, D, H, what] of [
  [1, 1, 12, 3, ''], [2, 5, 12, 3, ''], [2, 9, 40, 2, ''], [1, 31, 64, 4, ''], [2, 11, 512, 8, ' (19m heads)'],
  [2, 65, 64, 2, ''], [1, 129, 32, 2, ''], [1, 37, 256, 2, ' (d = 128)'], [1, 330, 256, 2, ' (d = 128)'], [1, 333, 136, 2, ' (d = 68)'],
] as [number, number, number, number, string][]) {
  for (const drop of [undefined, { p: 0.2, key: { seed: 5, step: 9, site: 2 } }] as (AttentionDropout | undefined)[]) {
    // At S = 1 dq and dk are exactly 0 (one key: dS = P·(M·dP − D) with D = P·M·dP), and written over NaN they
    // would be compared with no scale at all; the kernels leave rounding there (~1e-9 with dropout, with or
    // without a reserve), so S = 1 adds into dq, dk, dv only.
    for (const overwrite of S === 1 ? [false] : [false, true]) {
      add({
        op: 'ropeAttention', label: `with a reserve B=${B} S=${S} D=${D} H=${H}${what}${drop ? ', dropout 0.2' : ''}${overwrite ? ', overwriting' : ''}`,
        headDim: D / H,
        tensors: {
          q: R([B, S, D], -2, 2), k: R([B, S, D], -2, 2), v: R([B, S, D]), out: Z([B, S, D]), lse: Z([B, H, S]),
          dout: R([B, S, D]), dq: overwrite ? F([B, S, D], NaN) : R([B, S, D]), dk: overwrite ? F([B, S, D], NaN) : R([B, S, D]),
          dv: overwrite ? F([B, S, D], NaN) : R([B, S, D]), reserve: F([B, H, S, S], NaN),
        },
        compare: { out: 2e-4, lse: 2e-4, dq: 2e-4, dk: 2e-4, dv: 2e-4 },
        run: (be, t) => {
          be.ropeAttention(t.q, t.k, t.v, H, t.out, t.lse, drop, t.reserve);
          be.ropeAttentionBackward(t.dout, t.q, t.k, t.v, t.out, t.lse, H, t.dq, t.dk, t.dv, drop, overwrite, t.reserve);
        },
      });
    }
  }
}

// ---- elementwise and pooling ----
for (const n of [1, 17, 65537]) {
  add({
    op: 'add', label: `add, accumulate, scale, gradReverse n=${n} (also in place)`,
    tensors: { a: R([n]), b: R([n]), y: Z([n]), z: R([n]) },
    compare: { y: 1e-5, z: 1e-5 },
    run: (be, t) => {
      be.add(t.a, t.b, t.y);
      be.accumulate(t.a, t.y, -0.25);
      be.accumulate(t.b, t.y);
      be.scale(t.y, 3.5);
      be.gradReverse(t.a, t.y, 0.7);
      be.add(t.z, t.a, t.z);
    },
  });
}
// add with dropout on b (the residual after a dropped branch): odd lengths end in a partial Philox block; also
// in place over a and over b.
for (const [n, p] of [[1, 0.5], [17, 0.1], [65537, 0.1], [31 * 512 + 3, 0.3]]) {
  const drop = { p, key: { seed: 21, step: 4, site: 9 } };
  add({
    op: 'add', label: `add with dropout p=${p} n=${n} (also in place over a and over b)`,
    tensors: { a: R([n]), b: R([n]), y: F([n], NaN), a2: R([n]), b2: R([n]), a3: R([n]), b3: R([n]) },
    compare: { y: 1e-5, a2: 1e-5, b3: 1e-5 },
    run: (be, t) => {
      be.add(t.a, t.b, t.y, drop);
      be.add(t.a2, t.b2, t.a2, drop);
      be.add(t.a3, t.b3, t.b3, drop);
    },
  });
}
for (const [B, S, D] of [[1, 1, 12], [3, 31, 20], [2, 7, 64], [2, 11, 512]]) {
  add({
    op: 'meanPool', label: `B=${B} S=${S} D=${D}`,
    tensors: { h: R([B, S, D]), z: Z([B, D]), dz: R([B, D]), dh: R([B, S, D]) },
    compare: { z: 1e-4, dh: 1e-4 },
    run: (be, t) => {
      be.meanPool(t.h, t.z);
      be.meanPoolBackward(t.dz, t.dh);
    },
  });
}

// ---- losses ----
for (const [B, G] of [[1, 1], [9, 3], [32, 4], [300, 4]]) {
  add({
    op: 'hrLoss', label: `B=${B} G=${G}`,
    tensors: {
      out: R([B, 2], -2, 2), hr: R([B], 20, 240), w: R([B], 0.1, 2), group: V([B], (i) => i % G),
      pred: Z([B]), sampleLoss: Z([B]), loss: Z([1]), gsum: Z([G]), gcount: Z([G]), dout: R([B, 2]),
    },
    compare: { pred: 1e-5, sampleLoss: 1e-4, loss: 1e-4, gsum: 1e-4, gcount: 0, dout: 1e-4 },
    run: (be, t) => {
      const opts = { lambda: 0.7, eps: 0.1 };
      be.hrLoss(t.out, t.hr, t.w, t.group, opts, t.pred, t.sampleLoss, t.loss, t.gsum, t.gcount);
      be.hrLossBackward(t.out, t.hr, t.w, opts, t.dout, 0.5);
    },
  });
}
for (const [B, S, T, P] of [[1, 2, 1, 3], [2, 5, 3, 5], [3, 31, 30, 40], [2, 11, 10, 40]]) {
  add({
    op: 'nextPatchNll', label: `B=${B} S=${S} T=${T} P=${P}`,
    tensors: { params: R([B, S, 2 * P]), x: R([B, T * P], 0, 1), loss: Z([1]), dp: R([B, S, 2 * P]) },
    compare: { loss: 1e-4, dp: 1e-4 },
    run: (be, t) => {
      be.nextPatchNll(t.params, t.x, 0.1, t.loss);
      be.nextPatchNllBackward(t.params, t.x, 0.1, t.dp, 2);
    },
  });
}
for (const [N, C] of [[1, 1], [13, 3], [64, 17], [700, 2]]) {
  add({
    op: 'bceWithLogits', label: `N=${N} C=${C} (logits up to ±30)`,
    tensors: { logits: R([N, C], -30, 30), targets: R([N, C], 0, 1), loss: Z([1]), dl: R([N, C]) },
    compare: { loss: 1e-4, dl: 1e-4 },
    run: (be, t) => {
      be.bceWithLogits(t.logits, t.targets, t.loss);
      be.bceWithLogitsBackward(t.logits, t.targets, t.dl, 1.5);
    },
  });
}

/** Target distributions [N, C]: one-hot rows (class labels), or rows spread over the classes summing to 1. */
function targetRows(N: number, C: number, soft: boolean): (i: number) => number {
  return (i) => {
    const n = Math.floor(i / C), c = i % C;
    if (!soft) return c === (n * 7) % C ? 1 : 0;
    return (1 + ((n + c) % 3)) / Array.from({ length: C }, (_, k) => 1 + ((n + k) % 3)).reduce((a, b) => a + b);
  };
}
for (const [N, C, soft] of [[1, 1, false], [13, 3, false], [64, 17, true], [700, 2, false]] as [number, number, boolean][]) {
  add({
    op: 'softmaxCrossEntropy', label: `N=${N} C=${C} ${soft ? 'soft' : 'one-hot'} targets (logits up to ±30)`,
    tensors: { logits: R([N, C], -30, 30), targets: V([N, C], targetRows(N, C, soft)), loss: Z([1]), dl: R([N, C]) },
    compare: { loss: 1e-4, dl: 1e-4 },
    run: (be, t) => {
      be.softmaxCrossEntropy(t.logits, t.targets, t.loss);
      be.softmaxCrossEntropyBackward(t.logits, t.targets, t.dl, 1.5);
    },
  });
}

// ---- fairness and optimisation ----
for (const [label, losses] of [['an absent group', [3, 0, 900, 2.5]], ['all losses zero (a perfect batch)', [0, 0, 0, 0]]] as const) {
  add({
    op: 'groupLossReweight', label,
    tensors: {
      gs: V([4], (i) => losses[i]), gc: V([4], (i) => [2, 0, 3, 1][i]), gw: V([4], (i) => [1, 1.7, 1, 1][i]),
      group: V([6], (i) => [0, 2, 2, 3, 0, 2][i]), w: Z([6]),
    },
    compare: { gw: 1e-6, w: 1e-6 },
    run: (be, t) => be.groupLossReweight(t.gs, t.gc, 0.8, t.group, t.gw, t.w),
  });
}
add({
  op: 'groupDroUpdate', label: 'an absent group and a large η·L',
  tensors: {
    q: V([4], () => 0.25), gs: V([4], (i) => [3, 0, 900, 2.5][i]), gc: V([4], (i) => [2, 0, 3, 1][i]),
    group: V([6], (i) => [0, 2, 2, 3, 0, 2][i]), w: Z([6]),
  },
  compare: { q: 1e-5, w: 1e-5 },
  run: (be, t) => be.groupDroUpdate(t.q, t.gs, t.gc, 0.5, t.group, t.w),
});
add({
  op: 'groupDroUpdate', label: 'on group sums a kernel computed (the value checks read them back)',
  tensors: {
    out: R([8, 2], -2, 2), hr: R([8], 40, 200), w: F([8], 1), group: V([8], (i) => i % 3), pred: Z([8]), sl: Z([8]), loss: Z([1]),
    gs: Z([3]), gc: Z([3]), q: V([3], () => 1 / 3), wq: Z([8]),
  },
  compare: { q: 1e-5, wq: 1e-5 },
  run: (be, t) => {
    be.hrLoss(t.out, t.hr, t.w, t.group, { lambda: 1, eps: 0.1 }, t.pred, t.sl, t.loss, t.gs, t.gc);
    be.groupDroUpdate(t.q, t.gs, t.gc, 0.01, t.group, t.wq);
  },
});
for (const n of [1, 7, 40009]) {
  add({
    op: 'adamw', label: `n=${n} over three steps`,
    tensors: { p: R([n]), m: Z([n]), v: Z([n]), g1: R([n], -1, 1), g2: R([n], -2, 2), g3: R([n], -3, 3) },
    compare: { p: 1e-5, m: 1e-5, v: 1e-4 },
    run: (be, t) => {
      [t.g1, t.g2, t.g3].forEach((g, i) => be.adamw(t.p, g, t.m, t.v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: i + 1 }));
    },
  });
  add({
    op: 'adamw', label: `n=${n} with the gradient clipped (gradScale 0.3, the grad buffer untouched)`,
    tensors: { p: R([n]), m: R([n], 0, 0.1), v: R([n], 0, 0.1), g: R([n], -2, 2) },
    compare: { p: 1e-5, m: 1e-5, v: 1e-4, g: 0 },
    run: (be, t) => be.adamw(t.p, t.g, t.m, t.v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3, gradScale: 0.3 }),
  });
}
for (const n of [1, 7, 40009]) {
  add({
    op: 'adamw', label: `n=${n} clipped by a device norm over three steps (globalNorm, then maxNorm 1)`,
    tensors: { p: R([n]), m: Z([n]), v: Z([n]), g1: R([n], -1, 1), g2: R([n], -2, 2), g3: R([n], -3, 3), norm: Z([1]) },
    compare: { p: 1e-5, m: 1e-5, v: 1e-4, norm: 1e-6 * Math.sqrt(3 * n) },
    run: (be, t) => {
      [t.g1, t.g2, t.g3].forEach((g, i) => {
        be.globalNorm([g], t.norm);
        be.adamw(t.p, g, t.m, t.v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: i + 1, maxNorm: 1 }, t.norm);
      });
    },
  });
}
add({
  op: 'adamw', label: 'n=300 with a device norm below maxNorm (not clipped) and gradScale 0.5',
  tensors: { p: R([300]), m: R([300], 0, 0.1), v: R([300], 0, 0.1), g: R([300], -2, 2), norm: F([1], 3.5) },
  compare: { p: 1e-5, m: 1e-5, v: 1e-4 },
  run: (be, t) => be.adamw(t.p, t.g, t.m, t.v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 2, gradScale: 0.5, maxNorm: 10 }, t.norm),
});
for (const bad of [NaN, Infinity]) {
  add({
    op: 'adamw', label: `n=300 with a device norm of ${bad}: nothing is updated`,
    tensors: { p: R([300]), m: R([300], 0, 0.1), v: R([300], 0, 0.1), g: R([300], -2, 2), norm: F([1], bad) },
    compare: { p: 0, m: 0, v: 0 },
    run: (be, t) => be.adamw(t.p, t.g, t.m, t.v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 2, maxNorm: 1 }, t.norm),
  });
}
for (const [B, G] of [[1, 1], [7, 3], [300, 5]]) {
  add({
    op: 'oneHot', label: `B=${B} G=${G}`,
    tensors: { ids: V([B], (i) => (i * 7 + 3) % G), out: F([B, G], 9) },
    compare: { out: 0 },
    run: (be, t) => be.oneHot(t.ids, t.out),
  });
}
add({
  op: 'globalNorm', label: 'several tensors, a row slice, and none (0)',
  tensors: { a: R([1], -3, 3), b: R([17], -3, 3), c: R([300001], -3, 3), d: R([30, 5], -3, 3), norm: Z([1]), none: F([1], 7) },
  compare: { norm: 1e-6 * 1000, none: 0 },
  run: (be, t) => {
    be.globalNorm([], t.none);
    be.globalNorm([t.a, t.b, t.c, t.d, be.slice0(t.d, 7, 11)], t.norm);
  },
});
add({
  op: 'sumSquares', label: 'several tensors, a row slice and none',
  tensors: { a: R([1], -3, 3), b: R([17], -3, 3), c: R([300001], -3, 3), d: R([30, 5], -3, 3) },
  compare: {}, scalarRtol: 1e-6,
  run: (be, t) => {
    const empty = be.sumSquares([]);
    if (empty !== 0) throw new Error(`sumSquares([]) = ${empty}, expected 0`);
    return be.sumSquares([t.a, t.b, t.c, t.d, be.slice0(t.d, 7, 11)]);
  },
});

// ---- linearFanout: G products sharing x (q, k, v). Appended here, after every other case, so that the earlier
// cases keep their seeds. Block sizes that fit no micro-panel (M = 17, 33, 65: each block's last panel padded),
// and that a packed k step would straddle (G products then, on the CPU),
// the 19m q, k, v (N = 31, K = M = 512), a long N (dW's contraction over several KC blocks, only the first of
// which may overwrite), G = 1, no bias; outputs the op writes start as NaN, accumulated ones non-zero. ----
for (const [G, N, K, M, bias, over] of [
  [1, 1, 1, 1, true, false], [3, 7, 13, 17, true, false], [2, 33, 40, 33, false, true], [3, 31, 512, 512, true, true],
  [3, 20, 96, 65, true, false], [3, 2300, 24, 9, true, true], [4, 5, 300, 48, false, false],
  // dx as one product over k = G·M, packed in pieces that end at the blocks' edges: 3·352 = 1056 crosses the
  // KC blocks of every ISA (256, 512, 1024) inside a block; K = 800 makes the AVX-512 fp32 kernel pack A too.
  [3, 9, 40, 352, true, true], [3, 9, 40, 352, false, false], [2, 5, 800, 64, true, false],
] as [number, number, number, number, boolean, boolean][]) {
  add({
    op: 'linear', label: `fanout G=${G} N=${N} K=${K} M=${M}${bias ? '' : ', no bias'}${over ? ', overwriting dx, dw and db' : ''}`, gemm: true,
    tensors: {
      x: R([N, K]), w: R([G, M, K]), b: R([G, M]), y: F([G, N, M], NaN), dy: R([G, N, M]),
      dx: over ? F([N, K], NaN) : R([N, K]), dw: over ? F([G, M, K], NaN) : R([G, M, K]), db: over ? F([G, M], NaN) : R([G, M]),
    },
    compare: { y: 1e-4, dx: 1e-4, dw: 1e-4, db: 1e-4 },
    run: (be, t) => {
      be.linearFanout(t.x, t.w, bias ? t.b : null, t.y);
      be.linearFanoutBackward(t.dy, t.x, t.w, t.dx, t.dw, t.db, over, over);
    },
  });
}
// Only some gradients wanted (the frozen weights of LoRA fine-tuning: dx alone; dw without dx and db).
add({
  op: 'linear', label: 'fanout backward with dx only, and with dw only', gemm: true,
  tensors: { x: R([9, 20]), w: R([3, 12, 20]), dy: R([3, 9, 12]), dx: R([9, 20]), dw: F([3, 12, 20], NaN) },
  compare: { dx: 1e-4, dw: 1e-4 },
  run: (be, t) => {
    be.linearFanoutBackward(t.dy, t.x, t.w, t.dx, null, null);
    be.linearFanoutBackward(t.dy, t.x, t.w, null, t.dw, null, false, true);
  },
});

// linear's residual (y = residual + the product, after its relu and dropout): the pre-norm block's residual adds.
// Edge shapes, ragged rows (M odd: with dropout, rows start at every offset within a Philox block), a long K
// (several KC blocks on the CPU before the epilogue adds it), the 19m projection and linear2, with and without
// the bias, relu and dropout; y starts as NaN (an output, never read). Appended to keep earlier seeds.
for (const [N, K, M, bias, relu, p] of [
  [1, 1, 1, true, false, 0], [7, 13, 17, true, true, 0], [33, 300, 65, false, false, 0], [31, 512, 512, true, false, 0],
  [31, 2048, 512, true, false, 0], [5, 2100, 37, true, true, 0], [7, 13, 17, true, true, 0.5], [31, 2048, 512, true, false, 0.1],
  [130, 40, 600, false, false, 0.1],
] as [number, number, number, boolean, boolean, number][]) {
  add({
    op: 'linear',
    label: `forward with the residual added N=${N} K=${K} M=${M}${bias ? '' : ', no bias'}${relu ? ', relu' : ''}${p > 0 ? `, dropout p=${p}` : ''}`,
    gemm: true,
    tensors: { x: R([N, K]), w: R([M, K], -0.2, 0.2), b: R([M]), r: R([N, M], -3, 3), y: F([N, M], NaN) },
    compare: { y: 1e-4 },
    run: (be, t) => be.linear(t.x, t.w, bias ? t.b : null, t.y, relu, p > 0 ? { p, key: { seed: 11, step: 3, site: 7 } } : undefined, t.r),
  });
}

export const OP_CASES: readonly OpCase[] = cases;
