// Every op of the cpu backend against the reference backend (float64 oracle), on random and edge shapes,
// under every ISA path this machine supports (the addon's setIsa lowers the kernel level).
import type { DropoutKey } from '../../src/engine/backend';
import { hostData } from '../../src/engine/host-storage';
import { cpu, expectClose, expectScalarClose, isaPaths, pair, rand2, randomArray, ref, rng } from './helpers';

const detected = cpu.info().detectedIsa;
afterAll(() => cpu.setIsa(detected));

describe.each(isaPaths())('cpu ops on the %s path', (isa) => {
  beforeAll(() => cpu.setIsa(isa));

  test('the active ISA is the one asked for', () => {
    expect(cpu.info().isa).toBe(isa);
    expect(cpu.description).toContain(isa);
  });

  test.each([
    [1, 1, 1], [7, 13, 17], [2, 40, 12], [31, 20, 65], [33, 64, 96], [5, 300, 3], [97, 129, 33], [9, 520, 70], [130, 40, 600],
  ])('linear forward and backward N=%i K=%i M=%i', (N, K, M) => {
    const rand = rng(N * 1000 + K * 10 + M);
    for (const [mag, withBias] of [[1, true], [1e3, false]] as [number, boolean][]) {
      const x = rand2([N, K], rand, -mag, mag), w = rand2([M, K], rand), b = withBias ? rand2([M], rand) : null;
      const y = pair([N, M], new Float32Array(N * M).fill(7));
      cpu.linear(x.c, w.c, b?.c ?? null, y.c);
      ref.linear(x.r, w.r, b?.r ?? null, y.r);
      expectClose(y.c, y.r, `y (×${mag})`);
      const dy = rand2([N, M], rand), dx = rand2([N, K], rand), dw = rand2([M, K], rand), db = rand2([M], rand);
      cpu.linearBackward(dy.c, x.c, w.c, dx.c, dw.c, db.c);
      ref.linearBackward(dy.r, x.r, w.r, dx.r, dw.r, db.r);
      expectClose(dx.c, dx.r, 'dx');
      expectClose(dw.c, dw.r, 'dw');
      expectClose(db.c, db.r, 'db');
    }
  });

  test('linearBackward skips null gradients', () => {
    const rand = rng(5);
    const x = rand2([4, 6], rand), w = rand2([3, 6], rand), dy = rand2([4, 3], rand), dw = rand2([3, 6], rand);
    cpu.linearBackward(dy.c, x.c, w.c, null, dw.c, null);
    ref.linearBackward(dy.r, x.r, w.r, null, dw.r, null);
    expectClose(dw.c, dw.r, 'dw');
  });

  test.each([[1, 1, 40, 12], [2, 3, 5, 20], [3, 30, 40, 16]])('patchEmbed B=%i T=%i P=%i D=%i', (B, T, P, D) => {
    const rand = rng(B + T + P + D);
    const x = rand2([B, T * P], rand, 0, 1), w = rand2([D, P], rand), b = rand2([D], rand);
    const e = pair([B, T, D], new Float32Array(B * T * D));
    cpu.patchEmbed(x.c, w.c, b.c, e.c);
    ref.patchEmbed(x.r, w.r, b.r, e.r);
    expectClose(e.c, e.r, 'e');
    const de = rand2([B, T, D], rand), dw = rand2([D, P], rand), db = rand2([D], rand), dx = rand2([B, T * P], rand);
    cpu.patchEmbedBackward(de.c, x.c, w.c, dw.c, db.c, dx.c);
    ref.patchEmbedBackward(de.r, x.r, w.r, dw.r, db.r, dx.r);
    expectClose(dw.c, dw.r, 'dw');
    expectClose(db.c, db.r, 'db');
    expectClose(dx.c, dx.r, 'dx');
  });

  test.each([[1, 0, 12], [2, 1, 20], [3, 4, 12]])('startToken B=%i T=%i D=%i', (B, T, D) => {
    const rand = rng(B * 7 + T);
    const e = rand2([B, T, D], rand), token = rand2([D], rand), h = pair([B, T + 1, D], new Float32Array(B * (T + 1) * D));
    cpu.startToken(e.c, token.c, h.c);
    ref.startToken(e.r, token.r, h.r);
    expect(hostData(h.c)).toEqual(hostData(h.r));
    const dh = rand2([B, T + 1, D], rand), de = rand2([B, T, D], rand), dtoken = rand2([D], rand);
    cpu.startTokenBackward(dh.c, de.c, dtoken.c);
    ref.startTokenBackward(dh.r, de.r, dtoken.r);
    expectClose(de.c, de.r, 'de');
    expectClose(dtoken.c, dtoken.r, 'dtoken');
  });

  test.each([[1, 12], [7, 20], [62, 64], [3, 1]])('rmsNorm N=%i D=%i', (N, D) => {
    const rand = rng(N * 31 + D);
    for (const mag of [1, 1e3]) {
      const x = rand2([N, D], rand, -mag, mag), scale = rand2([D], rand, 0.5, 1.5);
      const y = pair([N, D], new Float32Array(N * D)), rstd = pair([N], new Float32Array(N));
      cpu.rmsNorm(x.c, scale.c, 1e-8, y.c, rstd.c);
      ref.rmsNorm(x.r, scale.r, 1e-8, y.r, rstd.r);
      expectClose(y.c, y.r, 'y');
      expectClose(rstd.c, rstd.r, 'rstd');
      const dy = rand2([N, D], rand), dx = rand2([N, D], rand), ds = rand2([D], rand);
      cpu.rmsNormBackward(dy.c, x.c, scale.c, rstd.c, dx.c, ds.c);
      ref.rmsNormBackward(dy.r, x.r, scale.r, rstd.r, dx.r, ds.r);
      expectClose(dx.c, dx.r, 'dx');
      expectClose(ds.c, ds.r, 'dscale');
    }
  });

  test.each([[1, 12], [3, 93], [4, 620]])('layerNorm N=%i C=%i', (N, C) => {
    const rand = rng(N * 17 + C);
    const x = rand2([N, C], rand, 40, 60), gamma = rand2([C], rand, 0.5, 1.5), beta = rand2([C], rand);
    const y = pair([N, C], new Float32Array(N * C)), mean = pair([N], new Float32Array(N)), rstd = pair([N], new Float32Array(N));
    cpu.layerNorm(x.c, gamma.c, beta.c, 1e-5, y.c, mean.c, rstd.c);
    ref.layerNorm(x.r, gamma.r, beta.r, 1e-5, y.r, mean.r, rstd.r);
    expectClose(y.c, y.r, 'y');
    expectClose(mean.c, mean.r, 'mean');
    expectClose(rstd.c, rstd.r, 'rstd');
    const dy = rand2([N, C], rand), dx = rand2([N, C], rand), dg = rand2([C], rand), dbt = rand2([C], rand);
    cpu.layerNormBackward(dy.c, x.c, gamma.c, mean.c, rstd.c, dx.c, dg.c, dbt.c);
    ref.layerNormBackward(dy.r, x.r, gamma.r, mean.r, rstd.r, dx.r, dg.r, dbt.r);
    expectClose(dx.c, dx.r, 'dx', 2e-4);
    expectClose(dg.c, dg.r, 'dgamma');
    expectClose(dbt.c, dbt.r, 'dbeta');
  });

  test.each([[1], [13], [70001]])('relu, gelu and their backwards n=%i', (n) => {
    const rand = rng(n);
    const x = rand2([n], rand, -4, 4), dy = rand2([n], rand);
    for (const op of ['relu', 'gelu'] as const) {
      const y = pair([n], new Float32Array(n));
      cpu[op](x.c, y.c);
      ref[op](x.r, y.r);
      expectClose(y.c, y.r, `${op} y`);
      const dx = rand2([n], rand);
      if (op === 'relu') {
        cpu.reluBackward(dy.c, y.c, dx.c);
        ref.reluBackward(dy.r, y.r, dx.r);
      } else {
        cpu.geluBackward(dy.c, x.c, dx.c);
        ref.geluBackward(dy.r, x.r, dx.r);
      }
      expectClose(dx.c, dx.r, `${op} dx`);
    }
    // In place, as the model runs ReLU.
    const inPlace = cpu.tensor([n], hostData(x.c));
    cpu.relu(inPlace, inPlace);
    const y = ref.tensor([n]);
    ref.relu(x.r, y);
    expect(hostData(inPlace)).toEqual(hostData(y));
  });

  test.each([[1, 0.1], [7, 0.5], [4099, 0.1], [40009, 0.9], [33, 0]])('dropout n=%i p=%f matches the reference mask', (n, p) => {
    const rand = rng(n);
    const key: DropoutKey = { seed: 2 ** 40 + 12345, step: 77, site: 3 };
    const x = rand2([n], rand), y = pair([n], new Float32Array(n));
    cpu.dropout(x.c, y.c, p, key);
    ref.dropout(x.r, y.r, p, key);
    const yc = hostData(y.c), yr = hostData(y.r);
    for (let i = 0; i < n; i++) {
      if ((yc[i] === 0) !== (yr[i] === 0)) throw new Error(`mask differs at ${i}`);
    }
    expectClose(y.c, y.r, 'y', 1e-6);
    const dy = rand2([n], rand), dx = rand2([n], rand);
    cpu.dropoutBackward(dy.c, dx.c, p, key);
    ref.dropoutBackward(dy.r, dx.r, p, key);
    expectClose(dx.c, dx.r, 'dx', 1e-6);
  });

  test('add, accumulate, scale, gradReverse', () => {
    const rand = rng(99);
    for (const n of [1, 17, 65537]) {
      const a = rand2([n], rand), b = rand2([n], rand), y = pair([n], new Float32Array(n));
      cpu.add(a.c, b.c, y.c);
      ref.add(a.r, b.r, y.r);
      expectClose(y.c, y.r, 'add');
      cpu.accumulate(a.c, y.c, -0.25);
      ref.accumulate(a.r, y.r, -0.25);
      expectClose(y.c, y.r, 'accumulate');
      cpu.accumulate(b.c, y.c);
      ref.accumulate(b.r, y.r);
      expectClose(y.c, y.r, 'accumulate (alpha 1)');
      cpu.scale(y.c, 3.5);
      ref.scale(y.r, 3.5);
      expectClose(y.c, y.r, 'scale');
      cpu.gradReverse(a.c, y.c, 0.7);
      ref.gradReverse(a.r, y.r, 0.7);
      expectClose(y.c, y.r, 'gradReverse');
    }
  });

  test.each([[1, 1, 12], [2, 2, 20], [3, 31, 64]])('meanPool B=%i S=%i D=%i', (B, S, D) => {
    const rand = rng(B * S * D);
    const h = rand2([B, S, D], rand), z = pair([B, D], new Float32Array(B * D));
    cpu.meanPool(h.c, z.c);
    ref.meanPool(h.r, z.r);
    expectClose(z.c, z.r, 'z');
    const dz = rand2([B, D], rand), dh = rand2([B, S, D], rand);
    cpu.meanPoolBackward(dz.c, dh.c);
    ref.meanPoolBackward(dz.r, dh.r);
    expectClose(dh.c, dh.r, 'dh');
  });

  test.each([[1, 1], [9, 3], [32, 4]])('hrLoss and its backward B=%i G=%i', (B, G) => {
    const rand = rng(B * 3 + G);
    const out = pair([B, 2], randomArray(2 * B, rand, -2, 2));
    const hr = pair([B], randomArray(B, rand, 20, 240));
    const w = pair([B], randomArray(B, rand, 0.1, 2));
    const group = pair([B], Float32Array.from({ length: B }, (_, i) => i % G));
    const mk = (n: number) => pair([n], new Float32Array(n));
    const pred = mk(B), sl = mk(B), loss = mk(1), gs = mk(G), gc = mk(G);
    const opts = { lambda: 0.7, eps: 0.1 };
    cpu.hrLoss(out.c, hr.c, w.c, group.c, opts, pred.c, sl.c, loss.c, gs.c, gc.c);
    ref.hrLoss(out.r, hr.r, w.r, group.r, opts, pred.r, sl.r, loss.r, gs.r, gc.r);
    for (const [n, t] of [['pred', pred], ['sampleLoss', sl], ['loss', loss], ['groupLossSum', gs], ['groupCount', gc]] as const) {
      expectClose(t.c, t.r, n);
    }
    const dout = rand2([B, 2], rand);
    cpu.hrLossBackward(out.c, hr.c, w.c, opts, dout.c, 0.5);
    ref.hrLossBackward(out.r, hr.r, w.r, opts, dout.r, 0.5);
    expectClose(dout.c, dout.r, 'dout');
  });

  test.each([[1, 2, 1, 3], [2, 5, 3, 5], [3, 31, 30, 40]])('nextPatchNll B=%i S=%i T=%i P=%i', (B, S, T, P) => {
    const rand = rng(B * S * T * P);
    const params = rand2([B, S, 2 * P], rand, -1, 1), x = rand2([B, T * P], rand, 0, 1);
    const loss = pair([1], new Float32Array(1));
    cpu.nextPatchNll(params.c, x.c, 0.1, loss.c);
    ref.nextPatchNll(params.r, x.r, 0.1, loss.r);
    expectClose(loss.c, loss.r, 'loss');
    const dp = rand2([B, S, 2 * P], rand);
    cpu.nextPatchNllBackward(params.c, x.c, 0.1, dp.c, 2);
    ref.nextPatchNllBackward(params.r, x.r, 0.1, dp.r, 2);
    expectClose(dp.c, dp.r, 'dparams');
  });

  test('bceWithLogits and its backward', () => {
    const rand = rng(4);
    for (const [N, C] of [[1, 1], [13, 3]]) {
      const logits = rand2([N, C], rand, -30, 30), targets = rand2([N, C], rand, 0, 1), loss = pair([1], new Float32Array(1));
      cpu.bceWithLogits(logits.c, targets.c, loss.c);
      ref.bceWithLogits(logits.r, targets.r, loss.r);
      expectClose(loss.c, loss.r, 'loss');
      const dl = rand2([N, C], rand);
      cpu.bceWithLogitsBackward(logits.c, targets.c, dl.c, 1.5);
      ref.bceWithLogitsBackward(logits.r, targets.r, dl.r, 1.5);
      expectClose(dl.c, dl.r, 'dlogits');
    }
  });

  test('groupDroUpdate, including an absent group and a large η·L', () => {
    const q = pair([4], Float32Array.from([0.25, 0.25, 0.25, 0.25]));
    const gs = pair([4], Float32Array.from([3, 0, 900, 2.5]));
    const gc = pair([4], Float32Array.from([2, 0, 3, 1]));
    const group = pair([6], Float32Array.from([0, 2, 2, 3, 0, 2]));
    const w = pair([6], new Float32Array(6));
    cpu.groupDroUpdate(q.c, gs.c, gc.c, 0.5, group.c, w.c);
    ref.groupDroUpdate(q.r, gs.r, gc.r, 0.5, group.r, w.r);
    expectClose(q.c, q.r, 'q');
    expectClose(w.c, w.r, 'w');
  });

  test.each([[1], [7], [40009]])('adamw n=%i over three steps', (n) => {
    const rand = rng(n);
    const p = rand2([n], rand), m = pair([n], new Float32Array(n)), v = pair([n], new Float32Array(n));
    for (let step = 1; step <= 3; step++) {
      const g = rand2([n], rand, -step, step);
      const opts = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step };
      cpu.adamw(p.c, g.c, m.c, v.c, opts);
      ref.adamw(p.r, g.r, m.r, v.r, opts);
    }
    expectClose(p.c, p.r, 'param');
    expectClose(m.c, m.r, 'm');
    expectClose(v.c, v.r, 'v');
  });

  test('sumSquares over several tensors', () => {
    const rand = rng(8);
    const ts = [[1], [17], [300001], [3, 5]].map((s) => rand2(s, rand, -3, 3));
    expectScalarClose(cpu.sumSquares(ts.map((t) => t.c)), ref.sumSquares(ts.map((t) => t.r)), 'sumSquares', 1e-9);
    expect(cpu.sumSquares([])).toBe(0);
  });
});
