// Every CUDA kernel, run through the emulated backend (cuda-emu: the same .cu sources compiled by g++),
// against the reference backend on random and edge shapes (sizes that are not multiples of any tile,
// S = 1, D = 12 with H = 3), forward and backward (backward ops ADD into their gradients).
import type { DropoutKey } from '../../src/engine/backend';
import { emu, expectClose, expectScalarClose, pair, rand2, randomArray, ref, rng, zeros2 } from './helpers';

jest.setTimeout(120000);

describe('cuda-emu kernels against the reference', () => {
  test.each([[1, 1, 1], [7, 13, 17], [2, 40, 12], [65, 20, 70], [33, 17, 129]])('linear N=%i K=%i M=%i', (N, K, M) => {
    const rand = rng(N * 1000 + K * 10 + M);
    for (const withBias of [true, false]) {
      const x = rand2([N, K], rand), w = rand2([M, K], rand), b = withBias ? rand2([M], rand) : null;
      const y = pair([N, M], new Float32Array(N * M).fill(7));
      emu.linear(x.c, w.c, b?.c ?? null, y.c);
      ref.linear(x.r, w.r, b?.r ?? null, y.r);
      expectClose(y.c, y.r, 'y');
      const dy = rand2([N, M], rand), dx = rand2([N, K], rand), dw = rand2([M, K], rand), db = rand2([M], rand);
      emu.linearBackward(dy.c, x.c, w.c, dx.c, dw.c, db.c);
      ref.linearBackward(dy.r, x.r, w.r, dx.r, dw.r, db.r);
      expectClose(dx.c, dx.r, 'dx');
      expectClose(dw.c, dw.r, 'dw');
      expectClose(db.c, db.r, 'db');
    }
  });

  test('patchEmbed forward and backward (through the GEMM)', () => {
    const [B, T, P, D] = [2, 3, 40, 12];
    const rand = rng(3);
    const x = rand2([B, T * P], rand, 0, 1), w = rand2([D, P], rand), b = rand2([D], rand);
    const e = zeros2([B, T, D]);
    emu.patchEmbed(x.c, w.c, b.c, e.c);
    ref.patchEmbed(x.r, w.r, b.r, e.r);
    expectClose(e.c, e.r, 'e');
    const de = rand2([B, T, D], rand), dw = rand2([D, P], rand), db = rand2([D], rand), dx = rand2([B, T * P], rand);
    emu.patchEmbedBackward(de.c, x.c, w.c, dw.c, db.c, dx.c);
    ref.patchEmbedBackward(de.r, x.r, w.r, dw.r, db.r, dx.r);
    expectClose(dw.c, dw.r, 'dw');
    expectClose(db.c, db.r, 'db');
    expectClose(dx.c, dx.r, 'dx');
  });

  test.each([[1, 0, 12], [2, 1, 20], [3, 4, 12]])('startToken B=%i T=%i D=%i', (B, T, D) => {
    const rand = rng(B * 7 + T);
    const e = rand2([B, T, D], rand), token = rand2([D], rand), h = zeros2([B, T + 1, D]);
    emu.startToken(e.c, token.c, h.c);
    ref.startToken(e.r, token.r, h.r);
    expectClose(h.c, h.r, 'h', 0);
    const dh = rand2([B, T + 1, D], rand), de = rand2([B, T, D], rand), dtoken = rand2([D], rand);
    emu.startTokenBackward(dh.c, de.c, dtoken.c);
    ref.startTokenBackward(dh.r, de.r, dtoken.r);
    expectClose(de.c, de.r, 'de');
    expectClose(dtoken.c, dtoken.r, 'dtoken');
  });

  test.each([[1, 12], [7, 20], [5, 300], [3, 1]])('rmsNorm N=%i D=%i', (N, D) => {
    const rand = rng(N * 31 + D);
    const x = rand2([N, D], rand, -3, 3), scale = rand2([D], rand, 0.5, 1.5);
    const y = zeros2([N, D]), rstd = zeros2([N]);
    emu.rmsNorm(x.c, scale.c, 1e-8, y.c, rstd.c);
    ref.rmsNorm(x.r, scale.r, 1e-8, y.r, rstd.r);
    expectClose(y.c, y.r, 'y');
    expectClose(rstd.c, rstd.r, 'rstd');
    const dy = rand2([N, D], rand), dx = rand2([N, D], rand), ds = rand2([D], rand);
    emu.rmsNormBackward(dy.c, x.c, scale.c, rstd.c, dx.c, ds.c);
    ref.rmsNormBackward(dy.r, x.r, scale.r, rstd.r, dx.r, ds.r);
    expectClose(dx.c, dx.r, 'dx');
    expectClose(ds.c, ds.r, 'dscale');
  });

  test.each([[1, 12], [3, 93], [2, 620]])('layerNorm N=%i C=%i', (N, C) => {
    const rand = rng(N * 17 + C);
    const x = rand2([N, C], rand, 40, 60), gamma = rand2([C], rand, 0.5, 1.5), beta = rand2([C], rand);
    const y = zeros2([N, C]), mean = zeros2([N]), rstd = zeros2([N]);
    emu.layerNorm(x.c, gamma.c, beta.c, 1e-5, y.c, mean.c, rstd.c);
    ref.layerNorm(x.r, gamma.r, beta.r, 1e-5, y.r, mean.r, rstd.r);
    expectClose(y.c, y.r, 'y', 2e-4);
    expectClose(mean.c, mean.r, 'mean');
    expectClose(rstd.c, rstd.r, 'rstd', 2e-4);
    const dy = rand2([N, C], rand), dx = rand2([N, C], rand), dg = rand2([C], rand), dbt = rand2([C], rand);
    emu.layerNormBackward(dy.c, x.c, gamma.c, mean.c, rstd.c, dx.c, dg.c, dbt.c);
    ref.layerNormBackward(dy.r, x.r, gamma.r, mean.r, rstd.r, dx.r, dg.r, dbt.r);
    expectClose(dx.c, dx.r, 'dx', 5e-4);
    expectClose(dg.c, dg.r, 'dgamma', 2e-4);
    expectClose(dbt.c, dbt.r, 'dbeta');
  });

  test.each([[1], [13], [3001]])('relu, gelu and their backwards n=%i', (n) => {
    const rand = rng(n);
    const x = rand2([n], rand, -6, 6), dy = rand2([n], rand);
    for (const op of ['relu', 'gelu'] as const) {
      const y = zeros2([n]);
      emu[op](x.c, y.c);
      ref[op](x.r, y.r);
      expectClose(y.c, y.r, `${op} y`);
      const dx = rand2([n], rand);
      if (op === 'relu') {
        emu.reluBackward(dy.c, y.c, dx.c);
        ref.reluBackward(dy.r, y.r, dx.r);
      } else {
        emu.geluBackward(dy.c, x.c, dx.c);
        ref.geluBackward(dy.r, x.r, dx.r);
      }
      expectClose(dx.c, dx.r, `${op} dx`);
    }
  });

  test.each([[1, 0.1], [7, 0.5], [4099, 0.1], [33, 0]])('dropout n=%i p=%f draws the reference Philox mask', (n, p) => {
    const rand = rng(n);
    const key: DropoutKey = { seed: 2 ** 40 + 12345, step: 77, site: 3 };
    const x = rand2([n], rand, 0.5, 1), y = zeros2([n]);
    emu.dropout(x.c, y.c, p, key);
    ref.dropout(x.r, y.r, p, key);
    const yc = emu.download(y.c), yr = ref.download(y.r);
    for (let i = 0; i < n; i++) if ((yc[i] === 0) !== (yr[i] === 0)) throw new Error(`mask differs at ${i}`);
    expectClose(y.c, y.r, 'y', 1e-6);
    const dy = rand2([n], rand), dx = rand2([n], rand);
    emu.dropoutBackward(dy.c, dx.c, p, key);
    ref.dropoutBackward(dy.r, dx.r, p, key);
    expectClose(dx.c, dx.r, 'dx', 1e-6);
  });

  // [B, S, D, H]: S = 1, S not a multiple of any tile, S spanning several query and key tiles, head dims
  // 4 (D = 12, H = 3), 16 (the tiny model), 20, 64 (the 19m model).
  test.each([[1, 1, 12, 3], [2, 5, 12, 3], [1, 31, 64, 4], [1, 70, 16, 1], [2, 9, 40, 2], [1, 33, 128, 2]])(
    'ropeAttention forward and backward B=%i S=%i D=%i H=%i',
    (B, S, D, H) => {
      const rand = rng(B * 1000 + S * 10 + D + H);
      for (const drop of [undefined, { p: 0.2, key: { seed: 5, step: 9, site: 2 } }]) {
        const q = rand2([B, S, D], rand), k = rand2([B, S, D], rand), v = rand2([B, S, D], rand);
        const out = zeros2([B, S, D]), lse = zeros2([B, H, S]);
        emu.ropeAttention(q.c, k.c, v.c, H, out.c, lse.c, drop);
        ref.ropeAttention(q.r, k.r, v.r, H, out.r, lse.r, drop);
        expectClose(out.c, out.r, 'out', 2e-4);
        expectClose(lse.c, lse.r, 'lse', 2e-4);
        const dout = rand2([B, S, D], rand), dq = rand2([B, S, D], rand), dk = rand2([B, S, D], rand), dv = rand2([B, S, D], rand);
        emu.ropeAttentionBackward(dout.c, q.c, k.c, v.c, out.c, lse.c, H, dq.c, dk.c, dv.c, drop);
        ref.ropeAttentionBackward(dout.r, q.r, k.r, v.r, out.r, lse.r, H, dq.r, dk.r, dv.r, drop);
        expectClose(dq.c, dq.r, 'dq', 5e-4);
        expectClose(dk.c, dk.r, 'dk', 5e-4);
        expectClose(dv.c, dv.r, 'dv', 5e-4);
      }
    },
  );

  test('add, accumulate, scale, gradReverse', () => {
    const rand = rng(99);
    for (const n of [1, 17, 3001]) {
      const a = rand2([n], rand), b = rand2([n], rand), y = zeros2([n]);
      emu.add(a.c, b.c, y.c);
      ref.add(a.r, b.r, y.r);
      expectClose(y.c, y.r, 'add');
      emu.accumulate(a.c, y.c, -0.25);
      ref.accumulate(a.r, y.r, -0.25);
      expectClose(y.c, y.r, 'accumulate');
      emu.scale(y.c, 3.5);
      ref.scale(y.r, 3.5);
      expectClose(y.c, y.r, 'scale');
      emu.gradReverse(a.c, y.c, 0.7);
      ref.gradReverse(a.r, y.r, 0.7);
      expectClose(y.c, y.r, 'gradReverse');
    }
  });

  test.each([[1, 1, 12], [3, 31, 20]])('meanPool B=%i S=%i D=%i', (B, S, D) => {
    const rand = rng(B * S * D);
    const h = rand2([B, S, D], rand), z = zeros2([B, D]);
    emu.meanPool(h.c, z.c);
    ref.meanPool(h.r, z.r);
    expectClose(z.c, z.r, 'z');
    const dz = rand2([B, D], rand), dh = rand2([B, S, D], rand);
    emu.meanPoolBackward(dz.c, dh.c);
    ref.meanPoolBackward(dz.r, dh.r);
    expectClose(dh.c, dh.r, 'dh');
  });

  test.each([[1, 1], [9, 3], [300, 4]])('hrLoss and its backward B=%i G=%i', (B, G) => {
    const rand = rng(B * 3 + G);
    const out = pair([B, 2], randomArray(2 * B, rand, -2, 2));
    const hr = pair([B], randomArray(B, rand, 20, 240));
    const w = pair([B], randomArray(B, rand, 0.1, 2));
    const group = pair([B], Float32Array.from({ length: B }, (_, i) => i % G));
    const pred = zeros2([B]), sl = zeros2([B]), loss = zeros2([1]), gs = zeros2([G]), gc = zeros2([G]);
    const opts = { lambda: 0.7, eps: 0.1 };
    emu.hrLoss(out.c, hr.c, w.c, group.c, opts, pred.c, sl.c, loss.c, gs.c, gc.c);
    ref.hrLoss(out.r, hr.r, w.r, group.r, opts, pred.r, sl.r, loss.r, gs.r, gc.r);
    for (const [n, t] of [['pred', pred], ['sampleLoss', sl], ['loss', loss], ['groupLossSum', gs], ['groupCount', gc]] as const) {
      expectClose(t.c, t.r, n);
    }
    const dout = rand2([B, 2], rand);
    emu.hrLossBackward(out.c, hr.c, w.c, opts, dout.c, 0.5);
    ref.hrLossBackward(out.r, hr.r, w.r, opts, dout.r, 0.5);
    expectClose(dout.c, dout.r, 'dout');
  });

  test.each([[1, 2, 1, 3], [2, 5, 3, 5], [2, 31, 30, 40]])('nextPatchNll B=%i S=%i T=%i P=%i', (B, S, T, P) => {
    const rand = rng(B * S * T * P);
    const params = rand2([B, S, 2 * P], rand), x = rand2([B, T * P], rand, 0, 1), loss = zeros2([1]);
    emu.nextPatchNll(params.c, x.c, 0.1, loss.c);
    ref.nextPatchNll(params.r, x.r, 0.1, loss.r);
    expectClose(loss.c, loss.r, 'loss');
    const dp = rand2([B, S, 2 * P], rand);
    emu.nextPatchNllBackward(params.c, x.c, 0.1, dp.c, 2);
    ref.nextPatchNllBackward(params.r, x.r, 0.1, dp.r, 2);
    expectClose(dp.c, dp.r, 'dparams');
  });

  test('bceWithLogits and its backward', () => {
    const rand = rng(4);
    for (const [N, C] of [[1, 1], [13, 3], [700, 2]]) {
      const logits = rand2([N, C], rand, -30, 30), targets = rand2([N, C], rand, 0, 1), loss = zeros2([1]);
      emu.bceWithLogits(logits.c, targets.c, loss.c);
      ref.bceWithLogits(logits.r, targets.r, loss.r);
      expectClose(loss.c, loss.r, 'loss');
      const dl = rand2([N, C], rand);
      emu.bceWithLogitsBackward(logits.c, targets.c, dl.c, 1.5);
      ref.bceWithLogitsBackward(logits.r, targets.r, dl.r, 1.5);
      expectClose(dl.c, dl.r, 'dlogits');
    }
  });

  test('groupDroUpdate, including an absent group and a large η·L', () => {
    const q = pair([4], Float32Array.from([0.25, 0.25, 0.25, 0.25]));
    const gs = pair([4], Float32Array.from([3, 0, 900, 2.5]));
    const gc = pair([4], Float32Array.from([2, 0, 3, 1]));
    const group = pair([6], Float32Array.from([0, 2, 2, 3, 0, 2]));
    const w = zeros2([6]);
    emu.groupDroUpdate(q.c, gs.c, gc.c, 0.5, group.c, w.c);
    ref.groupDroUpdate(q.r, gs.r, gc.r, 0.5, group.r, w.r);
    expectClose(q.c, q.r, 'q');
    expectClose(w.c, w.r, 'w');
  });

  test.each([[1], [7], [4009]])('adamw n=%i over three steps', (n) => {
    const rand = rng(n);
    const p = rand2([n], rand), m = zeros2([n]), v = zeros2([n]);
    for (let step = 1; step <= 3; step++) {
      const g = rand2([n], rand, -step, step);
      const opts = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step };
      emu.adamw(p.c, g.c, m.c, v.c, opts);
      ref.adamw(p.r, g.r, m.r, v.r, opts);
    }
    expectClose(p.c, p.r, 'param');
    expectClose(m.c, m.r, 'm');
    expectClose(v.c, v.r, 'v');
  });

  test('sumSquares over several tensors and slices', () => {
    const rand = rng(8);
    const ts = [[1], [17], [30001], [3, 5]].map((s) => rand2(s, rand, -3, 3));
    expectScalarClose(emu.sumSquares(ts.map((t) => t.c)), ref.sumSquares(ts.map((t) => t.r)), 'sumSquares', 1e-9);
    const sliced = [emu.slice0(ts[3].c, 1, 2)];
    expectScalarClose(emu.sumSquares(sliced), ref.sumSquares([ref.slice0(ts[3].r, 1, 2)]), 'sumSquares of a slice', 1e-9);
    expect(emu.sumSquares([])).toBe(0);
  });
});
