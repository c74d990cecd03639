// Every op of the webgpu backend (WGSL on Dawn/llvmpipe) against the reference backend (the float64 oracle),
// forward and backward, on random and edge shapes: sizes that are no multiple of any tile, T = 0 and S = 1,
// magnitudes up to 1e3, views and row slices at element offsets, ops run in place.
import type { DropoutKey } from '../../src/engine/backend';
import { hostData } from '../../src/engine/host-storage';
import { expectClose, expectScalarClose, mismatch, pair, rand2, randomArray, ref, rng, useWebGpu } from './helpers';

const gpu = useWebGpu();

describe('webgpu ops against the reference', () => {
  test.each([
    [1, 1, 1], [7, 13, 17], [2, 40, 12], [31, 20, 65], [33, 64, 96], [5, 300, 3], [97, 129, 33], [130, 40, 70],
  ])('linear forward and backward N=%i K=%i M=%i', (N, K, M) => {
    const g = gpu(), rand = rng(N * 1000 + K * 10 + M);
    for (const [mag, withBias] of [[1, true], [1e3, false]] as [number, boolean][]) {
      const x = rand2(g, [N, K], rand, -mag, mag), w = rand2(g, [M, K], rand), b = withBias ? rand2(g, [M], rand) : null;
      const y = pair(g, [N, M], new Float32Array(N * M).fill(7));
      g.linear(x.g, w.g, b?.g ?? null, y.g);
      ref.linear(x.r, w.r, b?.r ?? null, y.r);
      expectClose(g, y, `y (×${mag})`);
      const dy = rand2(g, [N, M], rand), dx = rand2(g, [N, K], rand), dw = rand2(g, [M, K], rand), db = rand2(g, [M], rand);
      g.linearBackward(dy.g, x.g, w.g, dx.g, dw.g, db.g);
      ref.linearBackward(dy.r, x.r, w.r, dx.r, dw.r, db.r);
      expectClose(g, dx, 'dx');
      expectClose(g, dw, 'dw');
      expectClose(g, db, 'db');
    }
  });

  test('linearBackward skips null gradients', () => {
    const g = gpu(), rand = rng(5);
    const x = rand2(g, [4, 6], rand), w = rand2(g, [3, 6], rand), dy = rand2(g, [4, 3], rand), dw = rand2(g, [3, 6], rand);
    g.linearBackward(dy.g, x.g, w.g, null, dw.g, null);
    ref.linearBackward(dy.r, x.r, w.r, null, dw.r, null);
    expectClose(g, dw, 'dw');
  });

  test('linear on row slices and views (element offsets that are no multiple of 4 or of 256 bytes)', () => {
    const g = gpu(), rand = rng(77);
    const big = rand2(g, [9, 5], rand), w = rand2(g, [3, 5], rand), b = rand2(g, [3], rand);
    const yBig = pair(g, [9, 3], new Float32Array(27));
    const xs = { g: g.slice0(big.g, 3, 4), r: ref.slice0(big.r, 3, 4) };
    const ys = { g: g.slice0(yBig.g, 5, 4), r: ref.slice0(yBig.r, 5, 4) };
    g.linear(xs.g, w.g, b.g, ys.g);
    ref.linear(xs.r, w.r, b.r, ys.r);
    expectClose(g, yBig, 'y written through a slice');
    const flat = { g: g.view(yBig.g, [27]), r: ref.view(yBig.r, [27]) };
    g.scale(flat.g, -2);
    ref.scale(flat.r, -2);
    expectClose(g, yBig, 'scaled through a view');
  });

  test.each([[1, 1, 40, 12], [2, 3, 5, 20], [3, 30, 40, 16]])('patchEmbed B=%i T=%i P=%i D=%i', (B, T, P, D) => {
    const g = gpu(), rand = rng(B + T + P + D);
    const x = rand2(g, [B, T * P], rand, 0, 1), w = rand2(g, [D, P], rand), b = rand2(g, [D], rand);
    const e = pair(g, [B, T, D], new Float32Array(B * T * D));
    g.patchEmbed(x.g, w.g, b.g, e.g);
    ref.patchEmbed(x.r, w.r, b.r, e.r);
    expectClose(g, e, 'e');
    const de = rand2(g, [B, T, D], rand), dw = rand2(g, [D, P], rand), db = rand2(g, [D], rand), dx = rand2(g, [B, T * P], rand);
    g.patchEmbedBackward(de.g, x.g, w.g, dw.g, db.g, dx.g);
    ref.patchEmbedBackward(de.r, x.r, w.r, dw.r, db.r, dx.r);
    expectClose(g, dw, 'dw');
    expectClose(g, db, 'db');
    expectClose(g, dx, 'dx');
  });

  test.each([[1, 0, 12], [2, 1, 20], [3, 4, 12]])('startToken B=%i T=%i D=%i', (B, T, D) => {
    const g = gpu(), rand = rng(B * 7 + T);
    const e = rand2(g, [B, T, D], rand), token = rand2(g, [D], rand), h = pair(g, [B, T + 1, D], new Float32Array(B * (T + 1) * D));
    g.startToken(e.g, token.g, h.g);
    ref.startToken(e.r, token.r, h.r);
    expect(g.download(h.g)).toEqual(hostData(h.r));
    const dh = rand2(g, [B, T + 1, D], rand), de = rand2(g, [B, T, D], rand), dtoken = rand2(g, [D], rand);
    g.startTokenBackward(dh.g, de.g, dtoken.g);
    ref.startTokenBackward(dh.r, de.r, dtoken.r);
    expectClose(g, de, 'de');
    expectClose(g, dtoken, 'dtoken');
  });

  test.each([[1, 12], [7, 20], [62, 64], [3, 1], [5, 130]])('rmsNorm N=%i D=%i', (N, D) => {
    const g = gpu(), rand = rng(N * 31 + D);
    for (const mag of [1, 1e3]) {
      const x = rand2(g, [N, D], rand, -mag, mag), scale = rand2(g, [D], rand, 0.5, 1.5);
      const y = pair(g, [N, D], new Float32Array(N * D)), rstd = pair(g, [N], new Float32Array(N));
      g.rmsNorm(x.g, scale.g, 1e-8, y.g, rstd.g);
      ref.rmsNorm(x.r, scale.r, 1e-8, y.r, rstd.r);
      expectClose(g, y, 'y');
      expectClose(g, rstd, 'rstd');
      const dy = rand2(g, [N, D], rand), dx = rand2(g, [N, D], rand), ds = rand2(g, [D], rand);
      g.rmsNormBackward(dy.g, x.g, scale.g, rstd.g, dx.g, ds.g);
      ref.rmsNormBackward(dy.r, x.r, scale.r, rstd.r, dx.r, ds.r);
      expectClose(g, dx, 'dx');
      expectClose(g, ds, 'dscale');
    }
  });

  test.each([[1, 12], [3, 93], [4, 620]])('layerNorm N=%i C=%i', (N, C) => {
    const g = gpu(), rand = rng(N * 17 + C);
    const x = rand2(g, [N, C], rand, 40, 60), gamma = rand2(g, [C], rand, 0.5, 1.5), beta = rand2(g, [C], rand);
    const y = pair(g, [N, C], new Float32Array(N * C)), mean = pair(g, [N], new Float32Array(N)), rstd = pair(g, [N], new Float32Array(N));
    g.layerNorm(x.g, gamma.g, beta.g, 1e-5, y.g, mean.g, rstd.g);
    ref.layerNorm(x.r, gamma.r, beta.r, 1e-5, y.r, mean.r, rstd.r);
    expectClose(g, y, 'y');
    expectClose(g, mean, 'mean');
    expectClose(g, rstd, 'rstd');
    const dy = rand2(g, [N, C], rand), dx = rand2(g, [N, C], rand), dg = rand2(g, [C], rand), dbt = rand2(g, [C], rand);
    g.layerNormBackward(dy.g, x.g, gamma.g, mean.g, rstd.g, dx.g, dg.g, dbt.g);
    ref.layerNormBackward(dy.r, x.r, gamma.r, mean.r, rstd.r, dx.r, dg.r, dbt.r);
    expectClose(g, dx, 'dx', 2e-4);
    expectClose(g, dg, 'dgamma');
    expectClose(g, dbt, 'dbeta');
    // Only dbeta wanted.
    const db2 = rand2(g, [C], rand), dx2 = rand2(g, [N, C], rand);
    g.layerNormBackward(dy.g, x.g, gamma.g, mean.g, rstd.g, dx2.g, null, db2.g);
    ref.layerNormBackward(dy.r, x.r, gamma.r, mean.r, rstd.r, dx2.r, null, db2.r);
    expectClose(g, db2, 'dbeta alone');
  });

  test.each([[1], [13], [70001]])('relu, gelu and their backwards n=%i', (n) => {
    const g = gpu(), rand = rng(n);
    const x = rand2(g, [n], rand, -6, 6), dy = rand2(g, [n], rand);
    for (const op of ['relu', 'gelu'] as const) {
      const y = pair(g, [n], new Float32Array(n));
      g[op](x.g, y.g);
      ref[op](x.r, y.r);
      expectClose(g, y, `${op} y`, 2e-6);
      const dx = rand2(g, [n], rand);
      if (op === 'relu') {
        g.reluBackward(dy.g, y.g, dx.g);
        ref.reluBackward(dy.r, y.r, dx.r);
      } else {
        g.geluBackward(dy.g, x.g, dx.g);
        ref.geluBackward(dy.r, x.r, dx.r);
      }
      expectClose(g, dx, `${op} dx`, 2e-6);
    }
    // In place, as the model runs ReLU.
    const inPlace = g.tensor([n], hostData(x.r));
    g.relu(inPlace, inPlace);
    const y = ref.tensor([n]);
    ref.relu(x.r, y);
    expect(g.download(inPlace)).toEqual(hostData(y));
  });

  test('gelu follows the exact erf form to float32 precision over [-10, 10]', () => {
    const g = gpu(), n = 4001;
    const xs = Float32Array.from({ length: n }, (_, i) => -10 + (20 * i) / (n - 1));
    const x = pair(g, [n], xs), y = pair(g, [n], new Float32Array(n));
    g.gelu(x.g, y.g);
    ref.gelu(x.r, y.r);
    const got = g.download(y.g), want = hostData(y.r);
    let worst = 0;
    // GELU(x)/x = Φ(x): compare Φ, whose error is erf's error over 2.
    for (let i = 0; i < n; i++) if (xs[i] !== 0) worst = Math.max(worst, Math.abs(got[i] / xs[i] - want[i] / xs[i]));
    expect(worst).toBeLessThan(1e-6);
  });

  test.each([[1, 0.1], [7, 0.5], [4099, 0.1], [40009, 0.9], [33, 0]])('dropout n=%i p=%f draws the reference mask', (n, p) => {
    const g = gpu(), rand = rng(n);
    const key: DropoutKey = { seed: 2 ** 40 + 12345, step: 77, site: 3 };
    const x = rand2(g, [n], rand, 0.5, 1.5), y = pair(g, [n], new Float32Array(n));
    g.dropout(x.g, y.g, p, key);
    ref.dropout(x.r, y.r, p, key);
    const yg = g.download(y.g), yr = hostData(y.r);
    for (let i = 0; i < n; i++) if ((yg[i] === 0) !== (yr[i] === 0)) throw new Error(`mask differs at ${i}`);
    expectClose(g, y, 'y', 1e-6);
    const dy = rand2(g, [n], rand), dx = rand2(g, [n], rand);
    g.dropoutBackward(dy.g, dx.g, p, key);
    ref.dropoutBackward(dy.r, dx.r, p, key);
    expectClose(g, dx, 'dx', 1e-6);
  });

  test('add, accumulate, scale, gradReverse (also in place)', () => {
    const g = gpu(), rand = rng(3), n = 1031;
    const a = rand2(g, [n], rand), b = rand2(g, [n], rand), y = pair(g, [n], new Float32Array(n));
    g.add(a.g, b.g, y.g);
    ref.add(a.r, b.r, y.r);
    expectClose(g, y, 'add');
    g.add(y.g, b.g, y.g);
    ref.add(y.r, b.r, y.r);
    expectClose(g, y, 'add in place');
    g.accumulate(a.g, y.g, 0.25);
    ref.accumulate(a.r, y.r, 0.25);
    expectClose(g, y, 'accumulate');
    g.accumulate(a.g, y.g);
    ref.accumulate(a.r, y.r);
    expectClose(g, y, 'accumulate alpha 1');
    g.scale(y.g, -3.5);
    ref.scale(y.r, -3.5);
    expectClose(g, y, 'scale');
    g.gradReverse(b.g, y.g, 0.7);
    ref.gradReverse(b.r, y.r, 0.7);
    expectClose(g, y, 'gradReverse');
  });

  test.each([[1, 1, 12], [3, 31, 20], [2, 7, 64]])('meanPool B=%i S=%i D=%i', (B, S, D) => {
    const g = gpu(), rand = rng(B * S * D);
    const h = rand2(g, [B, S, D], rand), z = pair(g, [B, D], new Float32Array(B * D));
    g.meanPool(h.g, z.g);
    ref.meanPool(h.r, z.r);
    expectClose(g, z, 'z');
    const dz = rand2(g, [B, D], rand), dh = rand2(g, [B, S, D], rand);
    g.meanPoolBackward(dz.g, dh.g);
    ref.meanPoolBackward(dz.r, dh.r);
    expectClose(g, dh, 'dh');
  });

  test.each([[1, 1], [7, 3], [300, 4]])('hrLoss and its backward B=%i G=%i', (B, G) => {
    const g = gpu(), rand = rng(B * 13 + G);
    const out = pair(g, [B, 2], randomArray(2 * B, rand, -2, 2));
    const hr = pair(g, [B], randomArray(B, rand, 20, 240));
    const w = pair(g, [B], randomArray(B, rand, 0.1, 2));
    const group = pair(g, [B], Float32Array.from({ length: B }, (_, i) => i % G));
    const outs = () => ({
      pred: pair(g, [B], new Float32Array(B)), sample: pair(g, [B], new Float32Array(B)), loss: pair(g, [1], new Float32Array(1)),
      gsum: pair(g, [G], new Float32Array(G)), gcount: pair(g, [G], new Float32Array(G)),
    });
    const o = outs();
    const opts = { lambda: 0.7, eps: 0.1 };
    g.hrLoss(out.g, hr.g, w.g, group.g, opts, o.pred.g, o.sample.g, o.loss.g, o.gsum.g, o.gcount.g);
    ref.hrLoss(out.r, hr.r, w.r, group.r, opts, o.pred.r, o.sample.r, o.loss.r, o.gsum.r, o.gcount.r);
    expectClose(g, o.pred, 'pred', 1e-5);
    expectClose(g, o.sample, 'sampleLoss');
    expectClose(g, o.loss, 'loss');
    expectClose(g, o.gsum, 'groupLossSum');
    expect(g.download(o.gcount.g)).toEqual(hostData(o.gcount.r));
    const dout = rand2(g, [B, 2], rand);
    g.hrLossBackward(out.g, hr.g, w.g, opts, dout.g, 0.5);
    ref.hrLossBackward(out.r, hr.r, w.r, opts, dout.r, 0.5);
    expectClose(g, dout, 'dout');
  });

  test.each([[1, 2, 1, 4], [3, 5, 3, 40], [2, 31, 30, 7]])('nextPatchNll B=%i S=%i T=%i P=%i', (B, S, T, P) => {
    const g = gpu(), rand = rng(B + S + T + P);
    const params = rand2(g, [B, S, 2 * P], rand, -1, 1), x = rand2(g, [B, T * P], rand, 0, 1);
    const loss = pair(g, [1], new Float32Array(1));
    g.nextPatchNll(params.g, x.g, 0.1, loss.g);
    ref.nextPatchNll(params.r, x.r, 0.1, loss.r);
    expectClose(g, loss, 'loss');
    const dp = rand2(g, [B, S, 2 * P], rand);
    g.nextPatchNllBackward(params.g, x.g, 0.1, dp.g, 2);
    ref.nextPatchNllBackward(params.r, x.r, 0.1, dp.r, 2);
    expectClose(g, dp, 'dparams');
  });

  test.each([[1, 1], [5, 3], [64, 17]])('bceWithLogits N=%i C=%i', (N, C) => {
    const g = gpu(), rand = rng(N * C);
    const logits = rand2(g, [N, C], rand, -30, 30), targets = rand2(g, [N, C], rand, 0, 1);
    const loss = pair(g, [1], new Float32Array(1));
    g.bceWithLogits(logits.g, targets.g, loss.g);
    ref.bceWithLogits(logits.r, targets.r, loss.r);
    expectClose(g, loss, 'loss');
    const dl = rand2(g, [N, C], rand);
    g.bceWithLogitsBackward(logits.g, targets.g, dl.g, 3);
    ref.bceWithLogitsBackward(logits.r, targets.r, dl.r, 3);
    expectClose(g, dl, 'dlogits');
  });

  test('groupDroUpdate on device-computed group sums (value checks read them back)', () => {
    const g = gpu(), rand = rng(11), B = 9, G = 4;
    const out = pair(g, [B, 2], randomArray(2 * B, rand, -2, 2));
    const hr = pair(g, [B], randomArray(B, rand, 40, 200));
    const w = pair(g, [B], new Float32Array(B).fill(1));
    const group = pair(g, [B], Float32Array.from([0, 1, 1, 3, 0, 3, 3, 1, 0]));
    const o = {
      pred: pair(g, [B], new Float32Array(B)), sample: pair(g, [B], new Float32Array(B)), loss: pair(g, [1], new Float32Array(1)),
      gsum: pair(g, [G], new Float32Array(G)), gcount: pair(g, [G], new Float32Array(G)),
    };
    const opts = { lambda: 1, eps: 0.1 };
    g.hrLoss(out.g, hr.g, w.g, group.g, opts, o.pred.g, o.sample.g, o.loss.g, o.gsum.g, o.gcount.g);
    ref.hrLoss(out.r, hr.r, w.r, group.r, opts, o.pred.r, o.sample.r, o.loss.r, o.gsum.r, o.gcount.r);
    const q = pair(g, [G], new Float32Array([0.1, 0.2, 0.3, 0.4]));
    g.groupDroUpdate(q.g, o.gsum.g, o.gcount.g, 0.05, group.g, w.g);
    ref.groupDroUpdate(q.r, o.gsum.r, o.gcount.r, 0.05, group.r, w.r);
    expectClose(g, q, 'q');
    expectClose(g, w, 'w');
    // w was written by a kernel: the backward's weight check must read the device values, which are valid.
    const dout = pair(g, [B, 2], new Float32Array(2 * B));
    g.hrLossBackward(out.g, hr.g, w.g, opts, dout.g, 1);
    ref.hrLossBackward(out.r, hr.r, w.r, opts, dout.r, 1);
    expectClose(g, dout, 'dout with DRO weights');
  });

  test('adamw over several steps, with and without weight decay', () => {
    const g = gpu(), rand = rng(21), n = 777;
    const p = rand2(g, [n], rand), m = pair(g, [n], new Float32Array(n)), v = pair(g, [n], new Float32Array(n));
    for (let step = 1; step <= 3; step++) {
      const grad = rand2(g, [n], rand);
      const opts = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: step === 2 ? 0 : 0.1, step };
      g.adamw(p.g, grad.g, m.g, v.g, opts);
      ref.adamw(p.r, grad.r, m.r, v.r, opts);
    }
    expectClose(g, p, 'param', 1e-5);
    expectClose(g, m, 'm', 1e-5);
    expectClose(g, v, 'v', 1e-4);
  });

  test('sumSquares over tensors of many sizes, slices included', () => {
    const g = gpu(), rand = rng(8);
    const sizes = [1, 3, 257, 1024, 1025, 70001, 300000];
    const ts = sizes.map((n) => rand2(g, [n], rand, -2, 2));
    const slice = { g: g.slice0(ts[4].g, 5, 100), r: ref.slice0(ts[4].r, 5, 100) };
    expectScalarClose(g.sumSquares([...ts.map((t) => t.g), slice.g]), ref.sumSquares([...ts.map((t) => t.r), slice.r]), 'sumSquares', 1e-5);
    expect(g.sumSquares([])).toBe(0);
  });

  test('zero, copy (also within one buffer), upload into a slice, stats', () => {
    const g = gpu();
    const before = g.stats();
    const t = g.tensor([4, 3], Float32Array.from({ length: 12 }, (_, i) => i + 1));
    expect(g.stats().allocations).toBe(before.allocations + 1);
    expect(g.stats().liveBytes).toBe(before.liveBytes + 48);
    g.copy(g.slice0(t, 0, 2), g.slice0(t, 2, 2));
    expect(Array.from(g.download(t))).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]);
    g.copy(g.slice0(t, 1, 2), g.slice0(t, 2, 2));
    expect(Array.from(g.download(t))).toEqual([1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3]);
    g.zero(g.slice0(t, 1, 1));
    g.upload(g.slice0(t, 3, 1), new Float32Array([9, 8, 7]));
    expect(Array.from(g.download(g.slice0(t, 1, 3)))).toEqual([0, 0, 0, 4, 5, 6, 9, 8, 7]);
    g.dispose(t);
    expect(g.stats().liveBytes).toBe(before.liveBytes);
    expect(() => g.download(t)).toThrow(/has been disposed/);
  });

  test('thousands of queued ops without a sync (batches split on the command and uniform limits) run in order', () => {
    const g = gpu(), n = 37;
    const a = g.tensor([n], Float32Array.from({ length: n }, (_, i) => i - 10)), y = g.tensor([n]);
    for (let k = 0; k < 3000; k++) g.accumulate(a, y, k % 2 === 0 ? 1 : -0.5);
    const got = g.download(y);
    for (let i = 0; i < n; i++) expect(got[i]).toBe((i - 10) * 750);
  });

  test('the comparison helper reports a wrong value', () => {
    const want = new Float32Array([1, 2, 3]);
    expect(mismatch(new Float32Array([1, 2, 3]), want)).toBeNull();
    expect(mismatch(new Float32Array([1, 2.01, 3]), want)).toMatch(/element 1 differs/);
  });
});
