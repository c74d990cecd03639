// The kernels of the native backends (cpu: host Float32Arrays; cuda and cuda-emu: device views), for every op
// of the table at once: each builds the addon's argument list from the op-table entry (ops/native-layout.ts)
// and makes one call, which the generated glue checks again where memory is at stake.
import { nativeCall, type NativeOpFunction } from './ops/native-layout';
import type { OpSpec } from './ops/op-spec';
import { OP_TABLE } from './ops/op-table';
import type { Dims, Kernels } from './table-backend';
import type { Tensor } from './tensor';

/** Kernels that call `addon`'s op functions, passing each tensor as `view(t)`. */
export function nativeKernels<V>(addon: object, view: (t: Tensor) => V): Kernels {
  const fns = addon as Record<string, NativeOpFunction>;
  const kernels: Record<string, (d: Dims, ...args: unknown[]) => unknown> = {};
  for (const spec of OP_TABLE as readonly OpSpec[]) {
    kernels[spec.name] = (d, ...args) => {
      const [fn, list] = nativeCall(spec, args, d, view);
      return fns[fn](...list);
    };
  }
  return kernels as unknown as Kernels;
}
