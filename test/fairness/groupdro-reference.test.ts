// GroupDRO as the reference implementation defines it (Sagawa et al. 2020, group_DRO's LossComputer):
// per batch the group mean losses L_g (0 for a group absent from the batch) update
// q ← q·exp(η·L), q ← q/Σq, and the robust loss is Σ_g q_g·L_g, so an absent group contributes nothing.
// The engine's path (hrLoss → groupDroUpdate → hrLoss with the new weights → backward) must give that
// loss and its gradient for 1000 steps with groups missing from batches, for η up to 1, with no step
// refused and nothing non-finite (7 of 1000 steps at η ≥ 0.5 once had all weights zero and were refused).
import { ReferenceBackend } from '../../src/engine/reference/backend';
import { Rng } from '../../src/util/random';

const be = new ReferenceBackend();
const opts = { lambda: 1, eps: 0.1 };

/** The reference's update and robust loss, in float64, from per-sample losses and group ids. */
function sagawa(q: Float64Array, ell: ArrayLike<number>, group: ArrayLike<number>, eta: number): number {
  const G = q.length, sum = new Float64Array(G), count = new Float64Array(G);
  for (let i = 0; i < ell.length; i++) {
    sum[group[i]] += ell[i];
    count[group[i]] += 1;
  }
  const L = Array.from(sum, (s, g) => (count[g] > 0 ? s / count[g] : 0));
  let z = 0;
  for (let g = 0; g < G; g++) z += (q[g] *= Math.exp(eta * L[g]));
  let robust = 0;
  for (let g = 0; g < G; g++) robust += (q[g] /= z) * L[g];
  return robust;
}

test.each([0.01, 0.1, 0.5, 1])('η = %f: 1000 steps with missing groups match the reference loss', (eta) => {
  const B = 8, G = 3, rng = new Rng(11);
  const out = be.tensor([B, 2]), hr = be.tensor([B]), w = be.tensor([B]), group = be.tensor([B]);
  const pred = be.tensor([B]), sl = be.tensor([B]), loss = be.tensor([1]), gs = be.tensor([G]), gc = be.tensor([G]);
  const q = be.tensor([G], new Float32Array(G).fill(1 / G));
  const qRef = new Float64Array(G).fill(1 / G);
  let missing = 0;
  for (let step = 0; step < 1000; step++) {
    // Batches drawn from one or two groups only, often: the cases where the normalisation matters.
    const present = 1 + Math.floor(rng.uniform() * G);
    const ids = Float32Array.from({ length: B }, () => Math.floor(rng.uniform() * present) % G);
    if (new Set(ids).size < G) missing++;
    be.upload(group, ids);
    be.upload(out, Float32Array.from({ length: 2 * B }, () => rng.uniform() * 2 - 1));
    be.upload(hr, Float32Array.from({ length: B }, () => 50 + rng.uniform() * 100));
    be.upload(w, new Float32Array(B).fill(1 / B));
    be.hrLoss(out, hr, w, group, opts, pred, sl, loss, gs, gc);
    be.groupDroUpdate(q, gs, gc, eta, group, w);
    be.hrLoss(out, hr, w, group, opts, pred, sl, loss, gs, gc);
    const want = sagawa(qRef, be.download(sl), ids, eta);
    const got = be.download(loss)[0];
    expect(Number.isFinite(got)).toBe(true);
    expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want)));
    const dout = be.tensor([B, 2]);
    be.hrLossBackward(out, hr, w, opts, dout, 1);
    expect(be.download(dout).every(Number.isFinite)).toBe(true);
    be.dispose(dout);
  }
  expect(missing).toBeGreaterThan(500);
  for (let g = 0; g < G; g++) expect(be.download(q)[g]).toBeCloseTo(qRef[g], 4);
});
