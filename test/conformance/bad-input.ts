// Bad calls every backend must reject exactly as the reference does (same checks, same messages),
// including the value checks of labels, weights and group ids, both when the host knows the values
// (uploaded) and when a kernel wrote them (a device backend then checks them on the device).
import type { Backend } from '../../src/engine/backend';

/** The message of the error `f` throws, or 'no error'. */
export function errorOf(f: () => void): string {
  try {
    f();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return 'no error';
}

export type BadInputCase = [string, (be: Backend) => void];

const t = (be: Backend, shape: number[], data?: number[]) => be.tensor(shape, data);

export const BAD_INPUT_CASES: BadInputCase[] = [
  ['linear K mismatch', (be) => be.linear(t(be, [2, 3]), t(be, [4, 5]), null, t(be, [2, 4]))],
  ['linear y is x', (be) => {
    const x = t(be, [2, 2]);
    be.linear(x, t(be, [2, 2]), null, x);
  }],
  ['linear residual shape', (be) => be.linear(t(be, [2, 3]), t(be, [4, 3]), null, t(be, [2, 4]), false, undefined, t(be, [4, 2]))],
  ['linear residual is y', (be) => {
    const y = t(be, [2, 4]);
    be.linear(t(be, [2, 3]), t(be, [4, 3]), null, y, false, undefined, y);
  }],
  ['relu shapes', (be) => be.relu(t(be, [3]), t(be, [4]))],
  ['dropout p = 1', (be) => be.dropout(t(be, [3]), t(be, [3]), 1, { seed: 0, step: 0, site: 0 })],
  ['dropout bad seed', (be) => be.dropout(t(be, [3]), t(be, [3]), 0.1, { seed: -1, step: 0, site: 0 })],
  ['attention D not divisible', (be) => be.ropeAttention(t(be, [1, 2, 10]), t(be, [1, 2, 10]), t(be, [1, 2, 10]), 3, t(be, [1, 2, 10]), t(be, [1, 3, 2]))],
  ['attention head dim', (be) => be.ropeAttention(t(be, [1, 2, 12]), t(be, [1, 2, 12]), t(be, [1, 2, 12]), 2, t(be, [1, 2, 12]), t(be, [1, 2, 2]))],
  ['rmsNorm eps 0', (be) => be.rmsNorm(t(be, [2, 3]), t(be, [3]), 0, t(be, [2, 3]), t(be, [2]))],
  ['hrLoss group id out of range', (be) => be.hrLoss(t(be, [2, 2]), t(be, [2], [60, 70]), t(be, [2], [1, 1]), t(be, [2], [0, 2]),
    { lambda: 1, eps: 0.1 }, t(be, [2]), t(be, [2]), t(be, [1]), t(be, [2]), t(be, [2]))],
  ['hrLoss negative weight', (be) => be.hrLoss(t(be, [2, 2]), t(be, [2], [60, 70]), t(be, [2], [1, -1]), t(be, [2], [0, 1]),
    { lambda: 1, eps: 0.1 }, t(be, [2]), t(be, [2]), t(be, [1]), t(be, [2]), t(be, [2]))],
  ['hrLoss NaN label', (be) => be.hrLoss(t(be, [2, 2]), t(be, [2], [60, NaN]), t(be, [2], [1, 1]), t(be, [2], [0, 1]),
    { lambda: 1, eps: 0.1 }, t(be, [2]), t(be, [2]), t(be, [1]), t(be, [2]), t(be, [2]))],
  // Values a kernel wrote: a host backend sees them at the call; a device backend checks them on the device
  // and reports the failure at the next read (here, the download of the op's output).
  ['hrLoss group ids written by a kernel', (be) => {
    // add() writes 0.5 + 0.25: not an integer id.
    const group = t(be, [2]), loss = t(be, [1]);
    be.add(t(be, [2], [0.5, 0]), t(be, [2], [0.25, 1]), group);
    be.hrLoss(t(be, [2, 2]), t(be, [2], [60, 70]), t(be, [2], [1, 1]), group,
      { lambda: 1, eps: 0.1 }, t(be, [2]), t(be, [2]), loss, t(be, [2]), t(be, [2]));
    be.download(loss);
  }],
  ['hrLossBackward weights from a kernel', (be) => {
    const w = t(be, [2]), dout = t(be, [2, 2]);
    be.add(t(be, [2], [1, -3]), t(be, [2], [0, 1]), w);
    be.hrLossBackward(t(be, [2, 2]), t(be, [2], [60, 70]), w, { lambda: 1, eps: 0.1 }, dout, 1);
    be.download(dout);
  }],
  ['groupDro counts from a kernel, 0 for a present group', (be) => {
    const counts = t(be, [2]), q = t(be, [2], [0.5, 0.5]);
    be.add(t(be, [2], [1, 0]), t(be, [2], [1, 0]), counts);
    be.groupDroUpdate(q, t(be, [2], [1, 1]), counts, 0.1, t(be, [2], [0, 1]), t(be, [2]));
    be.download(q);
  }],
  ['groupDro q from a kernel, all zero', (be) => {
    const q = t(be, [2]);
    be.add(t(be, [2], [0, 0]), t(be, [2], [0, 0]), q);
    be.groupDroUpdate(q, t(be, [2], [1, 1]), t(be, [2], [1, 1]), 0.1, t(be, [2], [0, 1]), t(be, [2]));
    be.download(q);
  }],
  ['groupDro count 0 for a present group', (be) => be.groupDroUpdate(t(be, [2], [0.5, 0.5]), t(be, [2], [1, 1]), t(be, [2], [2, 0]), 0.1,
    t(be, [2], [0, 1]), t(be, [2]))],
  ['bce targets out of range', (be) => be.bceWithLogits(t(be, [1, 2]), t(be, [1, 2], [0, 2]), t(be, [1]))],
  ['nextPatch x not finite', (be) => be.nextPatchNll(t(be, [1, 2, 4]), t(be, [1, 2], [0, Infinity]), 0.1, t(be, [1]))],
  ['adamw step 0', (be) => be.adamw(t(be, [2]), t(be, [2]), t(be, [2]), t(be, [2]), { lr: 1, beta1: 0.9, beta2: 0.9, eps: 1e-8, weightDecay: 0, step: 0 })],
  ['disposed tensor', (be) => {
    const x = t(be, [2]);
    be.dispose(x);
    be.relu(x, t(be, [2]));
  }],
  ['upload length', (be) => be.upload(t(be, [3]), new Float32Array(2))],
  ['view of another size', (be) => be.view(t(be, [2, 3]), [5])],
  ['slice past the end', (be) => be.slice0(t(be, [4, 2]), 3, 2)],
  ['linearBackward dw shape', (be) => be.linearBackward(t(be, [2, 4]), t(be, [2, 3]), t(be, [4, 3]), null, t(be, [3, 4]), null)],
  ['linearBackward relu gate without overwriteDx', (be) =>
    be.linearBackward(t(be, [2, 4]), t(be, [2, 3]), t(be, [4, 3]), t(be, [2, 3]), null, null, false, t(be, [2, 3]))],
  ['linearBackward relu gate shape', (be) =>
    be.linearBackward(t(be, [2, 4]), t(be, [2, 3]), t(be, [4, 3]), t(be, [2, 3]), null, null, true, t(be, [3, 2]))],
  ['layerNorm eps NaN', (be) => be.layerNorm(t(be, [2, 3]), t(be, [3]), t(be, [3]), NaN, t(be, [2, 3]), t(be, [2]), t(be, [2]))],
  ['meanPool z shape', (be) => be.meanPool(t(be, [2, 3, 4]), t(be, [2, 3]))],
  ['sumSquares disposed', (be) => {
    const x = t(be, [2]);
    be.dispose(x);
    be.sumSquares([t(be, [3]), x]);
  }],
];

