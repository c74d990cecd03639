// The one form every backend takes: a memory (TensorMemory) and a kernel per op of the table. The op methods
// themselves are not written per backend: each is installed once from the op table, and runs the table's
// checks (ops/check-call.ts), skips ops with nothing to do, and calls the backend's kernel with the bound
// dims. This is the ggml/tfjs shape (an op is a table entry; a backend registers a kernel per op name).
import type { Backend, BackendStats, TensorMemory } from './backend';
import { checkCall, type DeferredCheck } from './ops/check-call';
import type { OpSpec } from './ops/op-spec';
import { OP_TABLE, type OpName } from './ops/op-table';
import type { Tensor } from './tensor';

/** The symbols of an op's shapes, bound by the checks (N, K, M for linear; B, S, D, H for attention). */
export type Dims = Readonly<Record<string, number>>;

/** A backend's kernel of each op: the Backend method's arguments, checked, after the dims they bound. */
export type Kernels = { [K in OpName]: (d: Dims, ...args: Parameters<Backend[K]>) => ReturnType<Backend[K]> };

type OpMethods = Pick<Backend, OpName>;

export abstract class TableBackend {
  abstract readonly name: string;
  abstract readonly description: string;
  protected abstract readonly memory: TensorMemory;
  protected abstract readonly kernels: Kernels;
  /** A host copy of a tensor's values, for the table's value rules (labels, weights, group ids). */
  protected abstract hostValues(t: Tensor): Float32Array;
  /**
   * The same for several tensors. A device backend may answer null for a tensor the host does not know,
   * and then receives the check in deferCheck (to run it on the device) instead of reading the tensor.
   */
  protected hostValuesOf(ts: readonly Tensor[]): (Float32Array | null)[] {
    return ts.map((t) => this.hostValues(t));
  }
  protected deferCheck: ((c: DeferredCheck) => void) | undefined = undefined;
  /**
   * After a kernel: the tensors it wrote (a device backend drops their host shadows). Called only for a
   * backend that sets tracksWrites, so the host backends' op calls stay free of it.
   */
  protected wrote(_ts: readonly Tensor[]): void {}
  protected readonly tracksWrites: boolean = false;
  /** After a kernel that returned a number to the host (a device backend counts the read). */
  protected returnedNumber(): void {}

  // ---- memory: delegated, the same for every backend ----
  tensor(shape: readonly number[], init?: Float32Array | readonly number[]): Tensor {
    return this.memory.tensor(shape, init);
  }
  view(t: Tensor, shape: readonly number[]): Tensor {
    return this.memory.view(t, shape);
  }
  slice0(t: Tensor, start: number, count: number): Tensor {
    return this.memory.slice0(t, start, count);
  }
  upload(t: Tensor, data: Float32Array): void {
    this.memory.upload(t, data);
  }
  download(t: Tensor): Float32Array {
    return this.memory.download(t);
  }
  zero(t: Tensor): void {
    this.memory.zero(t);
  }
  copy(src: Tensor, dst: Tensor): void {
    this.memory.copy(src, dst);
  }
  dispose(t: Tensor): void {
    this.memory.dispose(t);
  }
  stats(): BackendStats {
    return this.memory.stats();
  }
}

// The op methods, declared for the type checker here and installed on the prototype below.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface TableBackend extends OpMethods {}

interface Internals {
  name: string;
  kernels: Record<string, (d: Dims, ...args: unknown[]) => unknown>;
  hostValuesOf(ts: readonly Tensor[]): (Float32Array | null)[];
  deferCheck: ((c: DeferredCheck) => void) | undefined;
  wrote(ts: readonly Tensor[]): void;
  tracksWrites: boolean;
  returnedNumber(): void;
}

for (const spec of OP_TABLE as readonly OpSpec[]) {
  const defaults = spec.args.map((a) => (a.kind === 'number' ? a.default : undefined));
  const writes = spec.args.flatMap((a, i) => (a.kind === 'tensor' && a.role !== 'in' ? [i] : []));
  Object.defineProperty(TableBackend.prototype, spec.name, {
    configurable: true,
    writable: true,
    value: function (this: Internals, ...args: unknown[]): unknown {
      defaults.forEach((v, i) => {
        if (v !== undefined && args[i] === undefined) args[i] = v;
      });
      const c = checkCall(spec, this.name, args, (ts) => this.hostValuesOf(ts), this.deferCheck);
      if (c.noop) return spec.returnsNumber ? 0 : undefined;
      const result = this.kernels[spec.name](c.dims, ...args);
      if (this.tracksWrites) this.wrote(writes.map((i) => args[i]).filter((t): t is Tensor => t !== null && t !== undefined));
      if (spec.returnsNumber) this.returnedNumber();
      return result;
    },
  });
}
