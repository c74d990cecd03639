// A Tensor is a handle: a shape, a dtype and a backend-owned storage. The engine never looks inside the
// storage; only the backend that made a tensor may read or write it. Views (reshape) share the storage and
// the disposed flag, so disposing the base makes every view unusable too.

export type DType = 'float32';

/** Shared between a tensor and its views so that dispose() is seen by all of them. */
export interface StorageCell {
  disposed: boolean;
}

export class Tensor {
  readonly dtype: DType = 'float32';
  readonly size: number;

  constructor(
    /** Name of the backend that owns the storage (a string, so tensors from two backends never mix silently). */
    readonly backendName: string,
    readonly shape: readonly number[],
    /** Backend-specific storage: a Float32Array for host backends, a device buffer elsewhere. */
    readonly handle: unknown,
    readonly cell: StorageCell,
  ) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`Tensor: invalid shape [${shape.join(', ')}]`);
    }
    this.size = shape.reduce((a, b) => a * b, 1);
  }

  get disposed(): boolean {
    return this.cell.disposed;
  }

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `Tensor<${this.backendName}>[${this.shape.join(', ')}]`;
  }
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
