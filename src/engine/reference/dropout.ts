// Inverted dropout with the Philox mask of src/engine/philox.ts: element i of the tensor (flat, row-major
// index within the tensor passed) is kept iff its Philox keep flag is set, and kept values are scaled by
// 1/(1 − p) so the expectation is unchanged. The backward draws the identical mask from the same key.
import type { DropoutKey } from '../backend';
import { dropoutMask } from '../philox';
import type { Vec } from './types';

export function dropoutForward(x: Vec, y: Vec, p: number, key: DropoutKey): void {
  if (p === 0) {
    for (let i = 0; i < x.length; i++) y[i] = x[i];
    return;
  }
  const keep = new Uint8Array(x.length);
  dropoutMask(key, p, 0, keep);
  const s = 1 / (1 - p);
  for (let i = 0; i < x.length; i++) y[i] = keep[i] ? x[i] * s : 0;
}

export function dropoutBackward(dy: Vec, dx: Vec, p: number, key: DropoutKey): void {
  if (p === 0) {
    for (let i = 0; i < dy.length; i++) dx[i] = dy[i];
    return;
  }
  const keep = new Uint8Array(dy.length);
  dropoutMask(key, p, 0, keep);
  const s = 1 / (1 - p);
  for (let i = 0; i < dy.length; i++) dx[i] = keep[i] ? dy[i] * s : 0;
}
