// Finite-difference checks (float64) of every backward of the reference core math. Each check defines a
// scalar L = Σ R∘forward(inputs) with fixed random R, runs the backward with dy = R into gradient buffers
// that start non-zero (so accumulation is checked too), and compares with central differences.
import { geluBackward, geluForward, reluBackward, reluForward } from '../../src/engine/reference/activation';
import { ropeAttentionBackward, ropeAttentionForward } from '../../src/engine/reference/attention';
import { bceWithLogitsBackward, bceWithLogitsForward } from '../../src/engine/reference/bce';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from '../../src/engine/reference/softmax-ce';
import { dropoutBackward, dropoutForward } from '../../src/engine/reference/dropout';
import { accumulateInto, addForward, scaleInPlace } from '../../src/engine/reference/elementwise';
import { hrLossBackward, hrLossForward, hrPrediction, hrTarget } from '../../src/engine/reference/hr-loss';
import { linearBackward, linearFanoutBackward, linearFanoutForward, linearForward } from '../../src/engine/reference/linear';
import { laplaceTarget } from '../../src/engine/reference/logit-laplace';
import { nextPatchNllBackward, nextPatchNllForward } from '../../src/engine/reference/next-patch';
import { layerNormBackward, layerNormForward, rmsNormBackward, rmsNormForward } from '../../src/engine/reference/norm';
import { meanPoolBackward, meanPoolForward, startTokenBackward, startTokenForward } from '../../src/engine/reference/sequence';
import { accumulated, dot, expectGradient, gradientsFrom, randn64, uniform64 } from './fd';

describe('linear / patchEmbed', () => {
  test.each([
    ['random', 5, 7, 3, 1],
    ['one row', 1, 4, 6, 1],
    ['patchEmbed shape B·T = 2·3, P = 5, D = 12', 6, 5, 12, 1],
    ['large magnitudes', 3, 4, 5, 1e3],
  ])('%s', (_label, N, K, M, mag) => {
    const x = randn64(N * K, 1, mag), w = randn64(M * K, 2), b = randn64(M, 3, mag), R = randn64(N * M, 4);
    const y = new Float64Array(N * M);
    const L = () => (linearForward(x, w, b, y, N, K, M), dot(R, y));
    const [dx, dw, db] = accumulated([N * K, M * K, M], 5, ([gx, gw, gb]) => linearBackward(R, x, w, gx, gw, gb, N, K, M));
    expectGradient('dx', L, x, dx);
    expectGradient('dw', L, w, dw);
    expectGradient('db', L, b, db);
  });

  test('null gradient outputs are skipped and no bias means y = x·wᵀ', () => {
    const x = randn64(6, 1), w = randn64(6, 2), dy = randn64(4, 3);
    const y = new Float64Array(4);
    linearForward(x, w, null, y, 2, 3, 2);
    expect(y[1]).toBeCloseTo(x[0] * w[3] + x[1] * w[4] + x[2] * w[5], 12);
    const dw = new Float64Array(6);
    linearBackward(dy, x, w, null, dw, null, 2, 3, 2);
    const full = new Float64Array(6);
    linearBackward(dy, x, w, new Float64Array(6), full, new Float64Array(2), 2, 3, 2);
    expect(Array.from(dw)).toEqual(Array.from(full));
  });

  // The model's MLP with dropout: y = dropout(relu(u))·wᵀ + b. linearBackward gated by its own input x =
  // dropout(relu(u)) and scaled by 1/(1 − p) must give ∂L/∂u, the dropout's and the relu's backward at once.
  // linear's residual, as the model's blocks use it: y = r + dropout(x·wᵀ + b). The backward the model runs for
  // it (blockBackward): ∂L/∂r is dy itself; the branch takes dropoutBackward of dy, then linearBackward.
  test.each([0, 0.1, 0.5])('a residual added after the dropout (y = r + dropout(x·wᵀ + b)), p = %f', (p) => {
    const N = 4, K = 6, M = 5, key = { seed: 5, step: 2, site: 4 };
    const x = randn64(N * K, 1), w = randn64(M * K, 2), b = randn64(M, 3), r = randn64(N * M, 6), R = randn64(N * M, 4);
    const prod = new Float64Array(N * M), dropped = new Float64Array(N * M), y = new Float64Array(N * M);
    const L = () => (linearForward(x, w, b, prod, N, K, M), dropoutForward(prod, dropped, p, key), addForward(r, dropped, y), dot(R, y));
    const dBranch = new Float64Array(N * M);
    dropoutBackward(R, dBranch, p, key);
    const [dx, dw, db] = accumulated([N * K, M * K, M], 5, ([gx, gw, gb]) => linearBackward(dBranch, x, w, gx, gw, gb, N, K, M));
    expectGradient('dr', L, r, R);
    expectGradient('dx', L, x, dx);
    expectGradient('dw', L, w, dw);
    expectGradient('db', L, b, db);
  });

  test.each([0, 0.1, 0.5])('dx gated by a dropout of a relu (reluOf = x, reluScale = 1/(1 − p)), p = %f', (p) => {
    const N = 4, K = 9, M = 5, key = { seed: 3, step: 1, site: 2 };
    const u = randn64(N * K, 1).map((v) => (Math.abs(v) < 0.01 ? v + 0.1 : v)), w = randn64(M * K, 2), b = randn64(M, 3);
    const R = randn64(N * M, 4), r = new Float64Array(N * K), x = new Float64Array(N * K), y = new Float64Array(N * M);
    const L = () => (reluForward(u, r), dropoutForward(r, x, p, key), linearForward(x, w, b, y, N, K, M), dot(R, y));
    L();
    expect(x.some((v) => v === 0) && x.some((v) => v > 0)).toBe(true);
    const [du] = gradientsFrom([N * K], 5, ([g]) => linearBackward(R, x, w, g, null, null, N, K, M, true, x, false, 1 / (1 - p)), 'overwrite');
    expectGradient('du', L, u, du);
  });
});

describe('linearFanout', () => {
  test.each([
    ['G = 3 (q, k, v)', 3, 4, 5, 3, true],
    ['G = 1, no bias', 1, 2, 3, 4, false],
    ['G = 2, one row', 2, 1, 6, 2, true],
  ])('%s', (_label, G, N, K, M, withBias) => {
    const x = randn64(N * K, 1), w = randn64(G * M * K, 2), b = withBias ? randn64(G * M, 3) : null, R = randn64(G * N * M, 4);
    const y = new Float64Array(G * N * M);
    const L = () => (linearFanoutForward(x, w, b, y, G, N, K, M), dot(R, y));
    const [dx, dw, db] = accumulated([N * K, G * M * K, G * M], 5, ([gx, gw, gb]) =>
      linearFanoutBackward(R, x, w, gx, gw, b === null ? null : gb, G, N, K, M));
    expectGradient('dx', L, x, dx);
    expectGradient('dw', L, w, dw);
    if (b !== null) expectGradient('db', L, b, db);
  });

  test('overwriting: the old dx, dw and db are not read, and dx sums every block', () => {
    const G = 3, N = 2, K = 3, M = 2;
    const x = randn64(N * K, 1), w = randn64(G * M * K, 2), dy = randn64(G * N * M, 3);
    const fresh = () => [new Float64Array(N * K), new Float64Array(G * M * K), new Float64Array(G * M)];
    const [ax, aw, ab] = fresh();
    linearFanoutBackward(dy, x, w, ax, aw, ab, G, N, K, M);
    const [ox, ow, ob] = fresh().map((v) => v.fill(NaN));
    linearFanoutBackward(dy, x, w, ox, ow, ob, G, N, K, M, true, true);
    expect(Array.from(ox)).toEqual(Array.from(ax));
    expect(Array.from(ow)).toEqual(Array.from(aw));
    expect(Array.from(ob)).toEqual(Array.from(ab));
  });
});

describe('startToken / meanPool', () => {
  test.each([[2, 3, 4], [1, 1, 3]])('startToken B=%i T=%i D=%i', (B, T, D) => {
    const e = randn64(B * T * D, 1), tok = randn64(D, 2), R = randn64(B * (T + 1) * D, 3);
    const h = new Float64Array(R.length);
    const L = () => (startTokenForward(e, tok, h, B, T, D), dot(R, h));
    const [de, dtok] = accumulated([e.length, D], 4, ([ge, gt]) => startTokenBackward(R, ge, gt, B, T, D));
    expectGradient('de', L, e, de);
    expectGradient('dtoken', L, tok, dtok);
  });

  test.each([[2, 3, 4], [1, 1, 5]])('meanPool B=%i S=%i D=%i', (B, S, D) => {
    const h = randn64(B * S * D, 1), R = randn64(B * D, 2);
    const z = new Float64Array(B * D);
    const L = () => (meanPoolForward(h, z, B, S, D), dot(R, z));
    const [dh] = accumulated([h.length], 3, ([g]) => meanPoolBackward(R, g, B, S, D));
    expectGradient('dh', L, h, dh);
  });
});

describe('norms', () => {
  test.each([
    ['random', 3, 8, 1, 0],
    ['one row, D = 1', 1, 1, 1, 0],
    ['D = 12', 2, 12, 1, 0],
    ['large magnitudes', 2, 6, 1e3, 0],
  ])('rmsNorm %s', (_l, N, D, mag) => {
    const x = randn64(N * D, 1, mag), s = randn64(D, 2), R = randn64(N * D, 3);
    const y = new Float64Array(N * D), rstd = new Float64Array(N);
    const eps = 1e-8;
    const L = () => (rmsNormForward(x, s, eps, y, rstd, N, D), dot(R, y));
    L();
    const [dx, ds] = accumulated([N * D, D], 4, ([gx, gs]) => rmsNormBackward(R, x, s, rstd, gx, gs, N, D));
    expectGradient('dx', L, x, dx);
    expectGradient('dscale', L, s, ds);
  });

  test.each([
    ['random', 3, 8, 1, 0],
    ['C = 2', 1, 2, 1, 0],
    ['HR head size S·D = 3·12', 2, 36, 1, 0],
    ['large magnitudes with offset', 2, 6, 1e2, 1e3],
  ])('layerNorm %s', (_l, N, C, mag, offset) => {
    const x = randn64(N * C, 1, mag).map((v) => v + offset), g = randn64(C, 2), beta = randn64(C, 3), R = randn64(N * C, 4);
    const y = new Float64Array(N * C), mean = new Float64Array(N), rstd = new Float64Array(N);
    const L = () => (layerNormForward(x, g, beta, 1e-5, y, mean, rstd, N, C), dot(R, y));
    L();
    const [dx, dg, db] = accumulated([N * C, C, C], 5, ([gx, gg, gb]) => layerNormBackward(R, x, g, mean, rstd, gx, gg, gb, N, C));
    expectGradient('dx', L, x, dx);
    expectGradient('dgamma', L, g, dg);
    expectGradient('dbeta', L, beta, db);
  });
});

describe('activations, dropout, elementwise', () => {
  test('relu (inputs kept away from the kink at 0)', () => {
    const x = randn64(50, 1).map((v) => (Math.abs(v) < 0.01 ? v + 0.1 : v)), R = randn64(50, 2);
    const y = new Float64Array(50);
    const L = () => (reluForward(x, y), dot(R, y));
    L();
    const [dx] = gradientsFrom([50], 3, ([g]) => reluBackward(R, y, g), 'overwrite');
    expectGradient('dx', L, x, dx);
  });

  test('gelu, including the tails', () => {
    const x = Float64Array.from([...randn64(40, 1, 2), -8, -5.5, -3, 3, 5.5, 8, 0, 1e-3]), R = randn64(48, 2);
    const y = new Float64Array(48);
    const L = () => (geluForward(x, y), dot(R, y));
    const [dx] = gradientsFrom([48], 3, ([g]) => geluBackward(R, x, g), 'overwrite');
    expectGradient('dx', L, x, dx);
  });

  test.each([0, 0.1, 0.5])('dropout p = %f (mask fixed by the key)', (p) => {
    const key = { seed: 7, step: 2, site: 5 };
    const x = randn64(64, 1), R = randn64(64, 2), y = new Float64Array(64);
    const L = () => (dropoutForward(x, y, p, key), dot(R, y));
    const [dx] = gradientsFrom([64], 3, ([g]) => dropoutBackward(R, g, p, key), 'overwrite');
    expectGradient('dx', L, x, dx);
  });

  test.each([0.1, 0.5])('add with dropout on b (the residual after a dropped branch), p = %f', (p) => {
    const key = { seed: 4, step: 6, site: 1 }, n = 64;
    const a = randn64(n, 1), b = randn64(n, 2), R = randn64(n, 3), y = new Float64Array(n), tmp = new Float64Array(n);
    const L = () => (dropoutForward(b, tmp, p, key), addForward(a, tmp, y), dot(R, y));
    const [db] = gradientsFrom([n], 4, ([g]) => dropoutBackward(R, g, p, key), 'overwrite');
    expectGradient('da', L, a, R);
    expectGradient('db', L, b, db);
  });

  test('add, accumulate, scale (the residual and its backward)', () => {
    const a = randn64(10, 1), b = randn64(10, 2), R = randn64(10, 3), y = new Float64Array(10);
    const L = () => (addForward(a, b, y), dot(R, y));
    const [da, db] = accumulated([10, 10], 4, ([ga, gb]) => {
      accumulateInto(R, ga, 1);
      accumulateInto(R, gb, 1);
    });
    expectGradient('da', L, a, da);
    expectGradient('db', L, b, db);
    const s = a.slice();
    scaleInPlace(s, -2.5);
    s.forEach((v, i) => expect(v).toBe(a[i] * -2.5));
  });
});

describe('ropeAttention', () => {
  type Case = [string, number, number, number, number, number, number];
  const cases: Case[] = [
    // label, B, S, H, D, scale of q/k, dropout p
    ['random B=2 S=5 H=2 D=8', 2, 5, 2, 8, 1, 0],
    ['S = 1', 1, 1, 1, 4, 1, 0],
    ['S = 2 (T = 1)', 2, 2, 1, 8, 1, 0],
    ['one head, d = 16', 1, 4, 1, 16, 1, 0],
    ['D = 12, H = 3 (d = 4)', 1, 4, 3, 12, 1, 0],
    ['large magnitudes', 1, 4, 2, 8, 4, 0],
    ['dropout p = 0.3', 2, 5, 2, 8, 1, 0.3],
    ['dropout p = 0.5, D = 12, H = 3', 1, 6, 3, 12, 1, 0.5],
  ];
  test.each(cases)('%s', (_l, B, S, H, D, mag, p) => {
    const n = B * S * D;
    const q = randn64(n, 1, mag), k = randn64(n, 2, mag), v = randn64(n, 3), R = randn64(n, 4);
    const shape = { B, S, H, D };
    const drop = p > 0 ? { p, key: { seed: 99, step: 1, site: 2 } } : undefined;
    const out = new Float64Array(n), lse = new Float64Array(B * H * S);
    const L = () => (ropeAttentionForward(q, k, v, shape, out, lse, drop), dot(R, out));
    const [dq, dk, dv] = accumulated([n, n, n], 5, ([gq, gk, gv]) => ropeAttentionBackward(R, q, k, v, shape, gq, gk, gv, drop));
    expectGradient('dq', L, q, dq);
    expectGradient('dk', L, k, dk);
    expectGradient('dv', L, v, dv);
  });

  test('the dropout mask really drops some probabilities (the p > 0 cases test a live mask)', () => {
    const B = 1, S = 6, H = 1, D = 4, n = B * S * D;
    const q = randn64(n, 1), k = randn64(n, 2), v = randn64(n, 3);
    const plain = new Float64Array(n), dropped = new Float64Array(n), lse = new Float64Array(S), lse2 = new Float64Array(S);
    ropeAttentionForward(q, k, v, { B, S, H, D }, plain, lse);
    ropeAttentionForward(q, k, v, { B, S, H, D }, dropped, lse2, { p: 0.5, key: { seed: 99, step: 1, site: 2 } });
    expect(Array.from(lse2)).toEqual(Array.from(lse)); // lse is taken before dropout
    expect(Array.from(dropped)).not.toEqual(Array.from(plain));
  });
});

describe('losses', () => {
  test('hrLoss: both terms away from their kinks, unequal weights, scale', () => {
    const B = 6, eps = 0.1, lambda = 0.7, scale = 1.3;
    const opts = { lambda, eps };
    const out = randn64(2 * B, 1);
    const hr = Float64Array.from([45, 72, 150, 20, 250, 99]); // includes labels outside [30, 230]
    const w = uniform64(B, 2, 0.2, 2);
    const group = Float64Array.from([0, 1, 0, 2, 1, 0]);
    for (let i = 0; i < B; i++) {
      const t = hrTarget(hr[i], eps);
      if (Math.abs(t.logit - out[2 * i]) < 0.05) out[2 * i] += 0.2;
      expect(Math.abs(hrPrediction(out[2 * i], eps) - hr[i])).toBeGreaterThan(0.5);
    }
    const pred = new Float64Array(B), sl = new Float64Array(B), loss = new Float64Array(1), gs = new Float64Array(3), gc = new Float64Array(3);
    const L = () => (hrLossForward(out, hr, w, group, B, 3, opts, pred, sl, loss, gs, gc), scale * loss[0]);
    const [dout] = accumulated([2 * B], 3, ([g]) => hrLossBackward(out, hr, w, B, opts, g, scale));
    expectGradient('dout', L, out, dout);
  });

  test('nextPatchNll: T < S − 1, targets clamped to [0, 1]', () => {
    const B = 2, S = 4, T = 2, P = 3, eps = 0.1, scale = 0.8;
    const params = randn64(B * S * 2 * P, 1);
    const x = uniform64(B * T * P, 2, -0.1, 1.1);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < P; j++) {
          const mi = (b * S + t) * 2 * P + j;
          if (Math.abs(laplaceTarget(x[(b * T + t) * P + j], eps).logit - params[mi]) < 0.05) params[mi] += 0.2;
        }
      }
    }
    const loss = new Float64Array(1);
    const L = () => (nextPatchNllForward(params, x, { B, S, T, P }, eps, loss), scale * loss[0]);
    const [dp] = accumulated([params.length], 3, ([g]) => nextPatchNllBackward(params, x, { B, S, T, P }, eps, g, scale));
    expectGradient('dparams', L, params, dp);
    // Tokens t ≥ T predict nothing.
    for (let b = 0; b < B; b++) for (let c = T * 2 * P; c < S * 2 * P; c++) expect(dp[b * S * 2 * P + c]).toBe(0);
  });

  test('bceWithLogits including large logits', () => {
    const logits = Float64Array.from([...randn64(10, 1, 3), 40, -40]);
    const targets = Float64Array.from([...uniform64(10, 2, 0, 1), 0, 1]);
    const loss = new Float64Array(1);
    const L = () => (bceWithLogitsForward(logits, targets, loss), 2 * loss[0]);
    const [dl] = accumulated([12], 3, ([g]) => bceWithLogitsBackward(logits, targets, g, 2));
    expectGradient('dlogits', L, logits, dl);
    expect(Number.isFinite(L())).toBe(true);
  });

  test('softmaxCrossEntropy with one-hot and soft targets, including large logits', () => {
    const N = 4, C = 3;
    const logits = Float64Array.from([...randn64(9, 5, 3), 40, -40, 0]);
    const targets = Float64Array.from([1, 0, 0, 0, 0.3, 0.7, 0, 1, 0, 0.2, 0.2, 0.6]);
    const loss = new Float64Array(1);
    const L = () => (softmaxCrossEntropyForward(logits, targets, loss, N, C), 2 * loss[0]);
    const [dl] = accumulated([N * C], 3, ([g]) => softmaxCrossEntropyBackward(logits, targets, g, 2, N, C));
    expectGradient('dlogits', L, logits, dl);
    expect(Number.isFinite(L())).toBe(true);
  });
});
