// The ReferenceBackend against its own float64 core on the same (float32) inputs, op by op, with outputs
// prefilled with garbage: forward ops must OVERWRITE them, backward ops must ADD INTO them, and null
// gradient outputs must be skipped. This checks the wiring (argument order, shapes passed to the core)
// and the float32 storage path; the math itself is checked by gradcheck.test.ts and hand.test.ts.
import { ReferenceBackend } from '../../src/engine/reference/backend';
import * as act from '../../src/engine/reference/activation';
import * as att from '../../src/engine/reference/attention';
import * as bce from '../../src/engine/reference/bce';
import * as drop from '../../src/engine/reference/dropout';
import * as ew from '../../src/engine/reference/elementwise';
import * as gdro from '../../src/engine/reference/groupdro';
import * as hr from '../../src/engine/reference/hr-loss';
import * as lin from '../../src/engine/reference/linear';
import * as np from '../../src/engine/reference/next-patch';
import * as norm from '../../src/engine/reference/norm';
import * as opt from '../../src/engine/reference/optim';
import * as seq from '../../src/engine/reference/sequence';
import { Tensor } from '../../src/engine/tensor';
import { randInts, randUniform, randn } from '../helpers/random';

const be = new ReferenceBackend();
type Shape = number[];
const size = (s: Shape) => s.reduce((a, b) => a * b, 1);

interface Spec {
  ins: Record<string, [Shape, Float32Array?]>;
  outs: Record<string, Shape>;
  mode: 'overwrite' | 'add';
  run(t: Record<string, Tensor>): void;
  core(a: Record<string, Float64Array>): void;
}

let seed = 1000;
function check(spec: Spec): void {
  const tensors: Record<string, Tensor> = {};
  const arrays: Record<string, Float64Array> = {};
  for (const [n, [shape, data]] of Object.entries(spec.ins)) {
    const v = data ?? randn(size(shape), seed++);
    tensors[n] = be.tensor(shape, v);
    arrays[n] = Float64Array.from(v);
  }
  const garbage: Record<string, Float32Array> = {};
  for (const [n, shape] of Object.entries(spec.outs)) {
    garbage[n] = randn(size(shape), seed++, 3);
    tensors[n] = be.tensor(shape, garbage[n]);
    arrays[n] = new Float64Array(size(shape));
  }
  spec.run(tensors);
  spec.core(arrays);
  for (const n of Object.keys(spec.outs)) {
    const got = be.download(tensors[n]);
    const want = arrays[n];
    let scale = 0;
    for (const x of want) scale = Math.max(scale, Math.abs(x));
    for (let i = 0; i < want.length; i++) {
      const g = spec.mode === 'add' ? got[i] - garbage[n][i] : got[i];
      // float32 storage of the result (and of the garbage it was added to): a few ulps of the largest value.
      const tol = 4e-7 * (scale + (spec.mode === 'add' ? 9 : 0)) + 1e-30;
      if (!(Math.abs(g - want[i]) <= tol + 1e-6 * Math.abs(want[i]))) {
        throw new Error(`${n}[${i}]: backend ${g}, core ${want[i]}`);
      }
    }
  }
}

const key = { seed: 2 ** 33 + 5, step: 3, site: 7 };

test('linear and linearBackward, with and without the optional tensors', () => {
  check({ ins: { x: [[5, 7]], w: [[3, 7]], b: [[3]] }, outs: { y: [5, 3] }, mode: 'overwrite',
    run: (t) => be.linear(t.x, t.w, t.b, t.y), core: (a) => lin.linearForward(a.x, a.w, a.b, a.y, 5, 7, 3) });
  check({ ins: { x: [[5, 7]], w: [[3, 7]] }, outs: { y: [5, 3] }, mode: 'overwrite',
    run: (t) => be.linear(t.x, t.w, null, t.y), core: (a) => lin.linearForward(a.x, a.w, null, a.y, 5, 7, 3) });
  check({ ins: { dy: [[5, 3]], x: [[5, 7]], w: [[3, 7]] }, outs: { dx: [5, 7], dw: [3, 7], db: [3] }, mode: 'add',
    run: (t) => be.linearBackward(t.dy, t.x, t.w, t.dx, t.dw, t.db),
    core: (a) => lin.linearBackward(a.dy, a.x, a.w, a.dx, a.dw, a.db, 5, 7, 3) });
  // Only dw wanted: null dx and db are skipped, dw still gets exactly its increment.
  check({ ins: { dy: [[5, 3]], x: [[5, 7]], w: [[3, 7]] }, outs: { dw: [3, 7] }, mode: 'add',
    run: (t) => be.linearBackward(t.dy, t.x, t.w, null, t.dw, null),
    core: (a) => lin.linearBackward(a.dy, a.x, a.w, null, a.dw, null, 5, 7, 3) });
});

test('patchEmbed and patchEmbedBackward', () => {
  const B = 2, T = 3, P = 5, D = 12;
  check({ ins: { x: [[B, T * P]], w: [[D, P]], b: [[D]] }, outs: { e: [B, T, D] }, mode: 'overwrite',
    run: (t) => be.patchEmbed(t.x, t.w, t.b, t.e), core: (a) => lin.linearForward(a.x, a.w, a.b, a.e, B * T, P, D) });
  check({ ins: { de: [[B, T, D]], x: [[B, T * P]], w: [[D, P]] }, outs: { dw: [D, P], db: [D], dx: [B, T * P] }, mode: 'add',
    run: (t) => be.patchEmbedBackward(t.de, t.x, t.w, t.dw, t.db, t.dx),
    core: (a) => lin.linearBackward(a.de, a.x, a.w, a.dx, a.dw, a.db, B * T, P, D) });
});

test('startToken, meanPool and their backwards', () => {
  check({ ins: { e: [[2, 3, 4]], tok: [[4]] }, outs: { h: [2, 4, 4] }, mode: 'overwrite',
    run: (t) => be.startToken(t.e, t.tok, t.h), core: (a) => seq.startTokenForward(a.e, a.tok, a.h, 2, 3, 4) });
  check({ ins: { dh: [[2, 4, 4]] }, outs: { de: [2, 3, 4], dt: [4] }, mode: 'add',
    run: (t) => be.startTokenBackward(t.dh, t.de, t.dt), core: (a) => seq.startTokenBackward(a.dh, a.de, a.dt, 2, 3, 4) });
  check({ ins: { dh: [[2, 4, 4]] }, outs: { dt: [4] }, mode: 'add',
    run: (t) => be.startTokenBackward(t.dh, null, t.dt), core: (a) => seq.startTokenBackward(a.dh, null, a.dt, 2, 3, 4) });
  check({ ins: { h: [[2, 3, 4]] }, outs: { z: [2, 4] }, mode: 'overwrite',
    run: (t) => be.meanPool(t.h, t.z), core: (a) => seq.meanPoolForward(a.h, a.z, 2, 3, 4) });
  check({ ins: { dz: [[2, 4]] }, outs: { dh: [2, 3, 4] }, mode: 'add',
    run: (t) => be.meanPoolBackward(t.dz, t.dh), core: (a) => seq.meanPoolBackward(a.dz, a.dh, 2, 3, 4) });
});

test('rmsNorm, layerNorm and their backwards', () => {
  const rstd = randUniform(6, 1, 0.5, 2);
  check({ ins: { x: [[6, 12]], s: [[12]] }, outs: { y: [6, 12], r: [6] }, mode: 'overwrite',
    run: (t) => be.rmsNorm(t.x, t.s, 1e-8, t.y, t.r), core: (a) => norm.rmsNormForward(a.x, a.s, 1e-8, a.y, a.r, 6, 12) });
  check({ ins: { dy: [[6, 12]], x: [[6, 12]], s: [[12]], r: [[6], rstd] }, outs: { dx: [6, 12], ds: [12] }, mode: 'add',
    run: (t) => be.rmsNormBackward(t.dy, t.x, t.s, t.r, t.dx, t.ds),
    core: (a) => norm.rmsNormBackward(a.dy, a.x, a.s, a.r, a.dx, a.ds, 6, 12) });
  check({ ins: { dy: [[6, 12]], x: [[6, 12]], s: [[12]], r: [[6], rstd] }, outs: { dx: [6, 12] }, mode: 'add',
    run: (t) => be.rmsNormBackward(t.dy, t.x, t.s, t.r, t.dx, null),
    core: (a) => norm.rmsNormBackward(a.dy, a.x, a.s, a.r, a.dx, null, 6, 12) });
  check({ ins: { x: [[3, 36]], g: [[36]], b: [[36]] }, outs: { y: [3, 36], m: [3], r: [3] }, mode: 'overwrite',
    run: (t) => be.layerNorm(t.x, t.g, t.b, 1e-5, t.y, t.m, t.r),
    core: (a) => norm.layerNormForward(a.x, a.g, a.b, 1e-5, a.y, a.m, a.r, 3, 36) });
  check({ ins: { dy: [[3, 36]], x: [[3, 36]], g: [[36]], m: [[3]], r: [[3], rstd.subarray(0, 3)] },
    outs: { dx: [3, 36], dg: [36], db: [36] }, mode: 'add',
    run: (t) => be.layerNormBackward(t.dy, t.x, t.g, t.m, t.r, t.dx, t.dg, t.db),
    core: (a) => norm.layerNormBackward(a.dy, a.x, a.g, a.m, a.r, a.dx, a.dg, a.db, 3, 36) });
});

test('relu, gelu, dropout and their backwards', () => {
  check({ ins: { x: [[4, 5]] }, outs: { y: [4, 5] }, mode: 'overwrite', run: (t) => be.relu(t.x, t.y), core: (a) => act.reluForward(a.x, a.y) });
  check({ ins: { dy: [[20]], y: [[20]] }, outs: { dx: [20] }, mode: 'overwrite', run: (t) => be.reluBackward(t.dy, t.y, t.dx), core: (a) => act.reluBackward(a.dy, a.y, a.dx) });
  check({ ins: { x: [[4, 5]] }, outs: { y: [4, 5] }, mode: 'overwrite', run: (t) => be.gelu(t.x, t.y), core: (a) => act.geluForward(a.x, a.y) });
  check({ ins: { dy: [[20]], x: [[20]] }, outs: { dx: [20] }, mode: 'overwrite', run: (t) => be.geluBackward(t.dy, t.x, t.dx), core: (a) => act.geluBackward(a.dy, a.x, a.dx) });
  for (const p of [0, 0.3]) {
    check({ ins: { x: [[7, 9]] }, outs: { y: [7, 9] }, mode: 'overwrite', run: (t) => be.dropout(t.x, t.y, p, key), core: (a) => drop.dropoutForward(a.x, a.y, p, key) });
    check({ ins: { dy: [[63]] }, outs: { dx: [63] }, mode: 'overwrite', run: (t) => be.dropoutBackward(t.dy, t.dx, p, key), core: (a) => drop.dropoutBackward(a.dy, a.dx, p, key) });
  }
});

test('ropeAttention and its backward (with dropout), lse layout [B, H, S]', () => {
  const B = 2, S = 5, H = 3, D = 12, shape = { B, S, H, D };
  for (const dropout of [undefined, { p: 0.2, key }]) {
    check({ ins: { q: [[B, S, D]], k: [[B, S, D]], v: [[B, S, D]] }, outs: { o: [B, S, D], l: [B, H, S] }, mode: 'overwrite',
      run: (t) => be.ropeAttention(t.q, t.k, t.v, H, t.o, t.l, dropout),
      core: (a) => att.ropeAttentionForward(a.q, a.k, a.v, shape, a.o, a.l, dropout) });
    check({ ins: { d: [[B, S, D]], q: [[B, S, D]], k: [[B, S, D]], v: [[B, S, D]], o: [[B, S, D]], l: [[B, H, S]] },
      outs: { dq: [B, S, D], dk: [B, S, D], dv: [B, S, D] }, mode: 'add',
      run: (t) => be.ropeAttentionBackward(t.d, t.q, t.k, t.v, t.o, t.l, H, t.dq, t.dk, t.dv, dropout),
      core: (a) => att.ropeAttentionBackward(a.d, a.q, a.k, a.v, shape, a.dq, a.dk, a.dv, dropout) });
  }
});

test('add, accumulate, scale, gradReverse', () => {
  check({ ins: { a: [[3, 4]], b: [[3, 4]] }, outs: { y: [3, 4] }, mode: 'overwrite', run: (t) => be.add(t.a, t.b, t.y), core: (a) => ew.addForward(a.a, a.b, a.y) });
  check({ ins: { s: [[12]] }, outs: { d: [12] }, mode: 'add', run: (t) => be.accumulate(t.s, t.d, 0.25), core: (a) => ew.accumulateInto(a.s, a.d, 0.25) });
  check({ ins: { s: [[12]] }, outs: { d: [12] }, mode: 'add', run: (t) => be.gradReverse(t.s, t.d, 0.5), core: (a) => ew.accumulateInto(a.s, a.d, -0.5) });
  const x = be.tensor([4], [1, -2, 3, 4]);
  be.scale(x, -0.5);
  expect(Array.from(be.download(x))).toEqual([-0.5, 1, -1.5, -2]);
});

test('losses and their backwards', () => {
  const B = 6, G = 3, opts = { lambda: 0.5, eps: 0.1 };
  const hrv = randUniform(B, 1, 20, 240), w = randUniform(B, 2, 0.1, 2), grp = randInts(B, G, 3);
  check({ ins: { out: [[B, 2]], hr: [[B], hrv], w: [[B], w], g: [[B], grp] },
    outs: { pred: [B], sl: [B], loss: [1], gs: [G], gc: [G] }, mode: 'overwrite',
    run: (t) => be.hrLoss(t.out, t.hr, t.w, t.g, opts, t.pred, t.sl, t.loss, t.gs, t.gc),
    core: (a) => hr.hrLossForward(a.out, a.hr, a.w, a.g, B, G, opts, a.pred, a.sl, a.loss, a.gs, a.gc) });
  check({ ins: { out: [[B, 2]], hr: [[B], hrv], w: [[B], w] }, outs: { d: [B, 2] }, mode: 'add',
    run: (t) => be.hrLossBackward(t.out, t.hr, t.w, opts, t.d, 0.7),
    core: (a) => hr.hrLossBackward(a.out, a.hr, a.w, B, opts, a.d, 0.7) });
  const shape = { B: 2, S: 4, T: 3, P: 5 };
  const x = randUniform(2 * 15, 4, 0, 1);
  check({ ins: { p: [[2, 4, 10]], x: [[2, 15], x] }, outs: { l: [1] }, mode: 'overwrite',
    run: (t) => be.nextPatchNll(t.p, t.x, 0.1, t.l), core: (a) => np.nextPatchNllForward(a.p, a.x, shape, 0.1, a.l) });
  check({ ins: { p: [[2, 4, 10]], x: [[2, 15], x] }, outs: { d: [2, 4, 10] }, mode: 'add',
    run: (t) => be.nextPatchNllBackward(t.p, t.x, 0.1, t.d, 2), core: (a) => np.nextPatchNllBackward(a.p, a.x, shape, 0.1, a.d, 2) });
  const targets = randUniform(8, 5, 0, 1);
  check({ ins: { z: [[4, 2]], y: [[4, 2], targets] }, outs: { l: [1] }, mode: 'overwrite',
    run: (t) => be.bceWithLogits(t.z, t.y, t.l), core: (a) => bce.bceWithLogitsForward(a.z, a.y, a.l) });
  check({ ins: { z: [[4, 2]], y: [[4, 2], targets] }, outs: { d: [4, 2] }, mode: 'add',
    run: (t) => be.bceWithLogitsBackward(t.z, t.y, t.d, 3), core: (a) => bce.bceWithLogitsBackward(a.z, a.y, a.d, 3) });
});

test('groupDroUpdate, adamw and sumSquares match the core (in-place updates)', () => {
  const qv = new Float32Array([0.2, 0.5, 0.3]), gs = new Float32Array([3, 0, 8]), gc = new Float32Array([2, 0, 4]);
  const grp = new Float32Array([0, 2, 2, 0, 2, 2]);
  const q = be.tensor([3], qv), w = be.tensor([6], randn(6, 9));
  be.groupDroUpdate(q, be.tensor([3], gs), be.tensor([3], gc), 0.3, be.tensor([6], grp), w);
  const q64 = Float64Array.from(qv), w64 = new Float64Array(6);
  gdro.groupDroUpdate(q64, Float64Array.from(gs), Float64Array.from(gc), 0.3, Float64Array.from(grp), w64, 3, 6);
  Array.from(be.download(q)).forEach((v, i) => expect(v).toBeCloseTo(q64[i], 6));
  Array.from(be.download(w)).forEach((v, i) => expect(v).toBeCloseTo(w64[i], 6));

  const o = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, step: 3 };
  const p0 = randn(10, 11), g0 = randn(10, 12), m0 = randn(10, 13, 0.1), v0 = randUniform(10, 14, 0, 0.1);
  const p = be.tensor([10], p0), m = be.tensor([10], m0), v = be.tensor([10], v0);
  be.adamw(p, be.tensor([10], g0), m, v, o);
  const [p64, m64, v64] = [p0, m0, v0].map((a) => Float64Array.from(a));
  opt.adamwStep(p64, Float64Array.from(g0), m64, v64, o);
  Array.from(be.download(p)).forEach((x, i) => expect(x).toBeCloseTo(p64[i], 6));
  Array.from(be.download(m)).forEach((x, i) => expect(x).toBeCloseTo(m64[i], 6));
  Array.from(be.download(v)).forEach((x, i) => expect(x).toBeCloseTo(v64[i], 6));

  const a = randn(5, 15), b = randn(7, 16);
  expect(be.sumSquares([be.tensor([5], a), be.tensor([7], b)])).toBeCloseTo(opt.sumSquares([a, b]), 10);
});

test('views and slices: dropout indexes elements within the tensor passed; relu runs in place', () => {
  const base = be.tensor([4, 8], new Float32Array(32).fill(1));
  const rows = be.slice0(base, 2, 2);
  const y = be.tensor([2, 8]);
  be.dropout(rows, y, 0.5, key);
  const whole = be.tensor([2, 8]);
  be.dropout(be.tensor([2, 8], new Float32Array(16).fill(1)), whole, 0.5, key);
  expect(Array.from(be.download(y))).toEqual(Array.from(be.download(whole)));
  const x = be.tensor([3], [-1, 2, -3]);
  const xv = be.view(x, [1, 3]);
  be.relu(xv, xv);
  expect(Array.from(be.download(x))).toEqual([0, 2, 0]);
  expect(be.name).toBe('reference');
});
