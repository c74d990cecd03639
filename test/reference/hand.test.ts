// Tiny cases computed by hand, run through the ReferenceBackend itself (float32 storage), so that the
// argument order and the wiring of every op are checked against numbers that do not come from the code.
import { ReferenceBackend } from '../../src/engine/reference/backend';
import { ropeRotate, ropeTable } from '../../src/engine/rope';
import { dropoutMask } from '../../src/engine/philox';

const be = new ReferenceBackend();
const get = (t: ReturnType<typeof be.tensor>) => Array.from(be.download(t));
function expectClose(actual: number[], expected: number[], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    if (!(Math.abs(a - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`element ${i}: got ${a}, expected ${expected[i]} (actual ${JSON.stringify(actual)})`);
    }
  });
}

test('linear 2×3 and its backward (accumulating)', () => {
  const x = be.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
  const w = be.tensor([2, 3], [1, 0, -1, 0.5, 0.5, 0.5]);
  const b = be.tensor([2], [0.1, -0.2]);
  const y = be.tensor([2, 2], [9, 9, 9, 9]);
  be.linear(x, w, b, y);
  expectClose(get(y), [-1.9, 2.8, -1.9, 7.3]);
  be.linear(x, w, null, y);
  expectClose(get(y), [-2, 3, -2, 7.5]);
  const dy = be.tensor([2, 2], [1, 0, 0, 1]);
  const dx = be.tensor([2, 3]), dw = be.tensor([2, 3]), db = be.tensor([2]);
  be.linearBackward(dy, x, w, dx, dw, db);
  be.linearBackward(dy, x, w, dx, dw, db);
  expectClose(get(dx), [2, 0, -2, 1, 1, 1]);
  expectClose(get(dw), [2, 4, 6, 8, 10, 12]);
  expectClose(get(db), [2, 2]);
});

test('patchEmbed: x[B, T·P] viewed as [B,T,P]', () => {
  // B = 1, T = 2, P = 2, D = 1: e[t] = w·patch_t + b.
  const x = be.tensor([1, 4], [1, 2, 3, 4]), w = be.tensor([1, 2], [10, 1]), b = be.tensor([1], [0.5]);
  const e = be.tensor([1, 2, 1]);
  be.patchEmbed(x, w, b, e);
  expectClose(get(e), [12.5, 34.5]);
  const dw = be.tensor([1, 2]), db = be.tensor([1]), dx = be.tensor([1, 4]);
  be.patchEmbedBackward(be.tensor([1, 2, 1], [1, -1]), x, w, dw, db, dx);
  expectClose(get(dw), [1 - 3, 2 - 4]);
  expectClose(get(db), [0]);
  expectClose(get(dx), [10, 1, -10, -1]);
});

test('startToken and meanPool', () => {
  const e = be.tensor([1, 2, 2], [1, 2, 3, 4]), tok = be.tensor([2], [-1, -2]);
  const h = be.tensor([1, 3, 2]);
  be.startToken(e, tok, h);
  expectClose(get(h), [-1, -2, 1, 2, 3, 4]);
  const z = be.tensor([1, 2]);
  be.meanPool(h, z);
  expectClose(get(z), [1, 4 / 3]);
  const de = be.tensor([1, 2, 2]), dtok = be.tensor([2]);
  be.startTokenBackward(be.tensor([1, 3, 2], [1, 2, 3, 4, 5, 6]), de, dtok);
  expectClose(get(de), [3, 4, 5, 6]);
  expectClose(get(dtok), [1, 2]);
  const dh = be.tensor([1, 3, 2]);
  be.meanPoolBackward(be.tensor([1, 2], [3, 6]), dh);
  expectClose(get(dh), [1, 2, 1, 2, 1, 2]);
});

test('rmsNorm and layerNorm', () => {
  const x = be.tensor([1, 2], [3, 4]), s = be.tensor([2], [1, 2]);
  const y = be.tensor([1, 2]), rstd = be.tensor([1]);
  be.rmsNorm(x, s, 1e-8, y, rstd);
  const r = 1 / Math.sqrt(12.5 + 1e-8);
  expectClose(get(rstd), [r]);
  expectClose(get(y), [3 * r, 8 * r]);

  const x2 = be.tensor([1, 4], [1, 2, 3, 4]);
  const g = be.tensor([4], [1, 1, 2, 2]), bt = be.tensor([4], [0, 0, 1, 1]);
  const y2 = be.tensor([1, 4]), mean = be.tensor([1]), rstd2 = be.tensor([1]);
  be.layerNorm(x2, g, bt, 1e-5, y2, mean, rstd2);
  const r2 = 1 / Math.sqrt(1.25 + 1e-5); // biased variance of 1..4 is 1.25
  expectClose(get(mean), [2.5]);
  expectClose(get(rstd2), [r2]);
  expectClose(get(y2), [-1.5 * r2, -0.5 * r2, r2 + 1, 3 * r2 + 1]);
});

test('relu (in place) and exact gelu', () => {
  const x = be.tensor([4], [-1, 0, 2, -3]);
  be.relu(x, x);
  expectClose(get(x), [0, 0, 2, 0]);
  const dx = be.tensor([4], [1, 1, 1, 1]);
  be.reluBackward(be.tensor([4], [5, 5, 5, 5]), x, dx);
  // Overwritten, not added into: what dx held before does not matter.
  expectClose(get(dx), [0, 0, 5, 0]);
  const g = be.tensor([3], [1, -1, 0]), gy = be.tensor([3]);
  be.gelu(g, gy);
  // Φ(1) = 0.8413447460685429 (tables), so gelu(1) = Φ(1), gelu(−1) = −(1 − Φ(1)).
  expectClose(get(gy), [0.8413447460685429, -0.15865525393145707, 0], 1e-7);
  const gdx = be.tensor([3]);
  be.geluBackward(be.tensor([3], [1, 1, 1]), g, gdx);
  const phi1 = Math.exp(-0.5) / Math.sqrt(2 * Math.PI);
  expectClose(get(gdx), [0.8413447460685429 + phi1, 0.15865525393145707 - phi1, 0.5], 1e-7);
});

test('dropout keeps the Philox-kept elements scaled by 1/(1 − p), and its backward uses the same mask', () => {
  const key = { seed: 5, step: 9, site: 1 };
  const n = 64;
  const x = be.tensor([8, 8], new Float32Array(n).fill(1)), y = be.tensor([8, 8]);
  be.dropout(x, y, 0.25, key);
  const keep = new Uint8Array(n);
  dropoutMask(key, 0.25, 0, keep);
  expectClose(get(y), Array.from(keep, (k) => (k ? 4 / 3 : 0)));
  expect(keep.some((k) => k === 0)).toBe(true);
  const dx = be.tensor([8, 8], new Float32Array(n).fill(1));
  be.dropoutBackward(x, dx, 0.25, key);
  expectClose(get(dx), Array.from(keep, (k) => (k ? 4 / 3 : 0)));
});

test('RoPE rotates pair j by pos·10000^(−2j/r): a known vector at pos 1', () => {
  const d = 8; // r = 4: pairs (0,1) at angle 1 and (2,3) at angle 10000^(−1/2) = 0.01; 4..7 unchanged
  const table = ropeTable(2, d);
  const row = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  ropeRotate(row, 0, 1, table, 1);
  const c1 = Math.cos(1), s1 = Math.sin(1), c2 = Math.cos(0.01), s2 = Math.sin(0.01);
  expectClose(Array.from(row), [c1 - 2 * s1, 2 * c1 + s1, 3 * c2 - 4 * s2, 4 * c2 + 3 * s2, 5, 6, 7, 8], 1e-14);
  ropeRotate(row, 0, 1, table, -1);
  expectClose(Array.from(row), [1, 2, 3, 4, 5, 6, 7, 8], 1e-14);
  const pos0 = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  ropeRotate(pos0, 0, 0, table, 1);
  expect(Array.from(pos0)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
});

describe('ropeAttention by hand', () => {
  test('S = 1: out = v, lse = q·k/√d (no rotation at pos 0)', () => {
    const q = be.tensor([1, 1, 8], [1, 2, 3, 4, 5, 6, 7, 8]);
    const k = be.tensor([1, 1, 8], [1, 1, 1, 1, 2, 2, 2, 2]);
    const v = be.tensor([1, 1, 8], [9, 8, 7, 6, 5, 4, 3, 2]);
    const out = be.tensor([1, 1, 8]), lse = be.tensor([1, 2, 1]);
    be.ropeAttention(q, k, v, 2, out, lse);
    expectClose(get(out), [9, 8, 7, 6, 5, 4, 3, 2]);
    expectClose(get(lse), [10 / 2, 52 / 2]);
  });

  test('S = 2, d = 4: query 1 sees key 0 at angle −1 and key 1 at relative angle 0', () => {
    // q1 = e0 rotates to (cos1, sin1); k0 = e0 stays; k1 = e1 rotates to (−sin1, cos1).
    // Scores (÷√4): s10 = cos1/2, s11 = 0. Row 0 only sees itself: out0 = v0.
    const q = be.tensor([1, 2, 4], [0, 0, 1, 0, 1, 0, 0, 0]);
    const k = be.tensor([1, 2, 4], [1, 0, 0, 0, 0, 1, 0, 0]);
    const v = be.tensor([1, 2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
    const out = be.tensor([1, 2, 4]), lse = be.tensor([1, 1, 2]);
    be.ropeAttention(q, k, v, 1, out, lse);
    const s10 = Math.cos(1) / 2;
    const p0 = Math.exp(s10) / (Math.exp(s10) + 1), p1 = 1 - p0;
    expectClose(get(out), [1, 2, 3, 4, p0 * 1 + p1 * 5, p0 * 2 + p1 * 6, p0 * 3 + p1 * 7, p0 * 4 + p1 * 8]);
    expectClose(get(lse), [0, Math.log(Math.exp(s10) + 1)]);
  });

  test('S = 1 with dropout: out = v·keep/(1 − p), mask element ((b·H + h)·S + i)·S + j', () => {
    const B = 2, H = 2, key = { seed: 3, step: 0, site: 4 };
    const q = be.tensor([B, 1, 8]), k = be.tensor([B, 1, 8]);
    const v = be.tensor([B, 1, 8], new Float32Array(16).fill(1));
    const out = be.tensor([B, 1, 8]), lse = be.tensor([B, H, 1]);
    be.ropeAttention(q, k, v, H, out, lse, { p: 0.5, key });
    const keep = new Uint8Array(B * H);
    dropoutMask(key, 0.5, 0, keep);
    const expected: number[] = [];
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let c = 0; c < 4; c++) expected.push(keep[b * H + h] * 2);
    expectClose(get(out), expected);
  });
});

describe('losses by hand', () => {
  const opts = { lambda: 1, eps: 0.1 };
  // μ = 0, log b = 0, HR = 100: pred = 30 + 200·(0.5 − 0.1)/0.8 = 130, so |pred − hr| = 30.
  // v = 70/200 = 0.35, u = 0.8·0.35 + 0.1 = 0.38, logit(u) = −0.48954822531870580,
  // NLL = log 2 + 0 + log(0.38·0.62) + 0.4895482253187058 = −0.2629244213260543.
  const NLL = -0.2629244213260543;
  test('hrLoss forward on one sample', () => {
    const out = be.tensor([1, 2], [0, 0]), hr = be.tensor([1], [100]), w = be.tensor([1], [1]), grp = be.tensor([1], [0]);
    const pred = be.tensor([1]), sl = be.tensor([1]), loss = be.tensor([1]), gs = be.tensor([2], [7, 7]), gc = be.tensor([2], [7, 7]);
    be.hrLoss(out, hr, w, grp, opts, pred, sl, loss, gs, gc);
    expectClose(get(pred), [130]);
    expectClose(get(sl), [30 + NLL]);
    expectClose(get(loss), [30 + NLL]);
    expectClose(get(gs), [30 + NLL, 0]);
    expectClose(get(gc), [1, 0]);
  });

  test('hrLoss backward on one sample: dμ = 200·σ′(0)/0.8 + 1/b, d log b = 1 − |logit(u) − μ|/b', () => {
    // The weight scales the sample's gradient (the loss is Σ w·ℓ), as the backward's scale does.
    const out = be.tensor([1, 2], [0, 0]), hr = be.tensor([1], [100]), w = be.tensor([1], [3]);
    const dout = be.tensor([1, 2], [1, 1]);
    be.hrLossBackward(out, hr, w, opts, dout, 2);
    expectClose(get(dout), [1 + 6 * (62.5 + 1), 1 + 6 * (1 - 0.4895482253187058)]);
  });

  test('hrLoss weights: loss = Σ w·ℓ (the weights are the caller\'s; GroupDRO\'s need not sum to 1)', () => {
    const out = be.tensor([2, 2], [0, 0, 0, 0]), hr = be.tensor([2], [100, 130]);
    const w = be.tensor([2], [0.25, 0.5]), grp = be.tensor([2], [1, 1]);
    const pred = be.tensor([2]), sl = be.tensor([2]), loss = be.tensor([1]), gs = be.tensor([2]), gc = be.tensor([2]);
    be.hrLoss(out, hr, w, grp, opts, pred, sl, loss, gs, gc);
    const l = get(sl);
    expectClose([l[0]], [30 + NLL]);
    expectClose(get(loss), [0.25 * l[0] + 0.5 * l[1]]);
    expectClose(get(gs), [0, l[0] + l[1]]);
    expectClose(get(gc), [0, 2]);
  });

  test('nextPatchNll: one token predicting one sample', () => {
    // B = 1, S = 2, P = 1, T = 1: params[0, 0] = (μ 0, log b 0) predicts x = 0.35; token 1 is unused.
    const params = be.tensor([1, 2, 2], [0, 0, 5, 5]), x = be.tensor([1, 1], [0.35]), loss = be.tensor([1]);
    be.nextPatchNll(params, x, 0.1, loss);
    expectClose(get(loss), [NLL]);
    const dp = be.tensor([1, 2, 2]);
    be.nextPatchNllBackward(params, x, 0.1, dp, 1);
    expectClose(get(dp), [1, 1 - 0.4895482253187058, 0, 0]); // μ > logit(u): dμ = +1/b
  });

  test('bceWithLogits: BCE(0, t) = log 2, gradient (σ(z) − t)/n', () => {
    const logits = be.tensor([1, 2], [0, 0]), t = be.tensor([1, 2], [1, 0]), loss = be.tensor([1]);
    be.bceWithLogits(logits, t, loss);
    expectClose(get(loss), [Math.LN2]);
    const dl = be.tensor([1, 2]);
    be.bceWithLogitsBackward(logits, t, dl, 1);
    expectClose(get(dl), [-0.25, 0.25]);
  });
});

describe('fairness and optimisation by hand', () => {
  test('groupDroUpdate moves q toward the high-loss group and sets w = q_g / count_g', () => {
    const q = be.tensor([2], [0.5, 0.5]);
    const gs = be.tensor([2], [2, 6]), gc = be.tensor([2], [2, 2]); // mean losses 1 and 3
    const grp = be.tensor([4], [0, 1, 1, 0]), w = be.tensor([4]);
    be.groupDroUpdate(q, gs, gc, 0.1, grp, w);
    const z = Math.exp(0.1) + Math.exp(0.3);
    const q0 = Math.exp(0.1) / z, q1 = Math.exp(0.3) / z;
    expectClose(get(q), [q0, q1]);
    expect(get(q)[1]).toBeGreaterThan(0.5);
    expectClose(get(w), [q0 / 2, q1 / 2, q1 / 2, q0 / 2]);
    // Σ w·ℓ with the group's samples at their mean loss = Σ_g q_g·L_g.
    const wv = get(w);
    const weighted = wv[0] * 1 + wv[1] * 3 + wv[2] * 3 + wv[3] * 1;
    expect(weighted).toBeCloseTo(q0 * 1 + q1 * 3, 6);
  });

  test('groupDroUpdate leaves absent groups unboosted', () => {
    const q = be.tensor([3], [0.2, 0.3, 0.5]);
    be.groupDroUpdate(q, be.tensor([3], [4, 0, 0]), be.tensor([3], [2, 0, 0]), 0.5, be.tensor([2], [0, 0]), be.tensor([2]));
    const z = 0.2 * Math.exp(1) + 0.3 + 0.5;
    expectClose(get(q), [(0.2 * Math.exp(1)) / z, 0.3 / z, 0.5 / z]);
  });

  test('adamw with gradScale s is AdamW on s·grad (clipping), and leaves grad as it was', () => {
    const o = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };
    const p1 = be.tensor([2], [1, -2]), m1 = be.tensor([2]), v1 = be.tensor([2]), g = be.tensor([2], [0.5, -4]);
    be.adamw(p1, g, m1, v1, { ...o, gradScale: 0.25 });
    const p2 = be.tensor([2], [1, -2]), m2 = be.tensor([2]), v2 = be.tensor([2]);
    be.adamw(p2, be.tensor([2], [0.125, -1]), m2, v2, o);
    expectClose(get(p1), get(p2), 1e-12);
    expectClose(get(m1), get(m2), 1e-12);
    expectClose(get(g), [0.5, -4]);
  });

  test('adamw: two steps against the PyTorch formula', () => {
    const o = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };
    const p = be.tensor([1], [1]), m = be.tensor([1]), v = be.tensor([1]);
    be.adamw(p, be.tensor([1], [0.5]), m, v, o);
    // p = 1·(1 − 0.001) − 0.1·(0.05/0.1)/(sqrt(0.00025/0.001) + 1e-8)
    expectClose(get(m), [0.05]);
    expectClose(get(v), [0.00025]);
    expectClose(get(p), [0.999 - (0.1 * 0.5) / (0.5 + 1e-8)]);
    be.adamw(p, be.tensor([1], [-1]), m, v, { ...o, step: 2 });
    const m2 = 0.9 * 0.05 - 0.1, v2 = 0.999 * 0.00025 + 0.001;
    const p1 = 0.999 - (0.1 * 0.5) / (0.5 + 1e-8);
    const p2 = p1 * 0.999 - (0.1 * (m2 / (1 - 0.81))) / (Math.sqrt(v2 / (1 - 0.999 ** 2)) + 1e-8);
    expectClose(get(m), [m2]);
    expectClose(get(v), [v2]);
    expectClose(get(p), [p2]);
  });

  test('sumSquares, scale, accumulate, add, gradReverse', () => {
    const a = be.tensor([2], [1, 2]), b = be.tensor([1, 1], [3]);
    expect(be.sumSquares([a, b])).toBe(14);
    expect(be.sumSquares([])).toBe(0);
    be.scale(a, 0.5);
    expectClose(get(a), [0.5, 1]);
    const y = be.tensor([2]);
    be.add(a, be.tensor([2], [1, 1]), y);
    expectClose(get(y), [1.5, 2]);
    be.accumulate(a, y, -2);
    expectClose(get(y), [0.5, 0]);
    be.accumulate(a, y);
    expectClose(get(y), [1, 1]);
    const dx = be.tensor([2], [1, 1]);
    be.gradReverse(be.tensor([2], [2, 4]), dx, 0.5);
    expectClose(get(dx), [0, -1]);
  });
});
