// Tensor memory of the webgpu backend: a tensor is one GPUBuffer of its size (held by the device worker and
// named here by an id); views and row slices share the buffer with an element offset, which kernels receive
// as a uniform (so no binding needs WebGPU's 256-byte offset alignment).
//
// Host shadows: the reference backend validates values (group ids, weights, labels) by scanning them. To do
// the same without a device round trip per op, a buffer whose whole contents were last written from the host
// (tensor init, a full upload, zero) keeps a host copy; any kernel or copy that writes the buffer drops it,
// and a value check on a buffer without a shadow downloads it (a sync) instead.
import type { BackendStats, TensorMemory } from '../backend';
import { OpError, checkCopy, checkNewTensor, checkSlice0, checkTensor, checkUpload, checkView } from '../check';
import { Tensor, shapeStr } from '../tensor';
import type { DeviceClient } from './device-client';

/** Buffers up to this many elements keep a host shadow (the inputs that get value-checked are small). */
const SHADOW_MAX = 1 << 16;

export interface GpuBuffer {
  readonly id: number;
  readonly elements: number;
  shadow: Float32Array | null;
  freed: boolean;
}

export interface GpuHandle {
  readonly buf: GpuBuffer;
  /** Element offset of the tensor in its buffer. */
  readonly offset: number;
}

export function handleOf(t: Tensor): GpuHandle {
  return t.handle as GpuHandle;
}

export class GpuStorage implements TensorMemory {
  readonly name: string = 'webgpu';
  private allocations = 0;
  private liveBytes = 0;
  private readonly internalIds = new Set<number>();

  constructor(readonly client: DeviceClient) {}

  tensor(shape: readonly number[], init?: Float32Array | readonly number[]): Tensor {
    return this.allocate(shape, init, true);
  }

  /** Backend-internal buffers (RoPE tables, scratch) are not the caller's tensors: stats() leaves them out. */
  internalTensor(shape: readonly number[], init?: Float32Array): Tensor {
    return this.allocate(shape, init, false);
  }

  private allocate(shape: readonly number[], init: Float32Array | readonly number[] | undefined, counted: boolean): Tensor {
    const n = checkNewTensor(shape, init);
    const maxElements = Math.floor(this.client.limit('maxStorageBufferBindingSize') / 4);
    if (n > maxElements) throw new OpError('tensor', `shape ${shapeStr(shape)} has ${n} elements; this device binds at most ${maxElements}`);
    const id = this.client.alloc(n * 4);
    const buf: GpuBuffer = { id, elements: n, shadow: null, freed: false };
    // A new buffer is zero-filled by WebGPU.
    if (n <= SHADOW_MAX) buf.shadow = new Float32Array(n);
    if (init !== undefined && n > 0) {
      const data = init instanceof Float32Array ? init : Float32Array.from(init);
      this.client.write(id, 0, data);
      if (buf.shadow) buf.shadow.set(data);
    }
    if (counted) {
      this.allocations++;
      this.liveBytes += n * 4;
    } else this.internalIds.add(id);
    return new Tensor(this.name, [...shape], { buf, offset: 0 } satisfies GpuHandle, { disposed: false });
  }

  view(t: Tensor, shape: readonly number[]): Tensor {
    checkView(t, shape, this.name);
    return new Tensor(this.name, [...shape], t.handle, t.cell);
  }

  slice0(t: Tensor, start: number, count: number): Tensor {
    const inner = checkSlice0(t, start, count, this.name);
    const h = handleOf(t);
    return new Tensor(this.name, [count, ...t.shape.slice(1)], { buf: h.buf, offset: h.offset + start * inner } satisfies GpuHandle, t.cell);
  }

  upload(t: Tensor, data: Float32Array): void {
    checkUpload(t, data, this.name);
    const h = handleOf(t);
    this.client.write(h.buf.id, h.offset * 4, data);
    if (h.buf.shadow) h.buf.shadow.set(data, h.offset);
    else if (h.offset === 0 && t.size === h.buf.elements && t.size <= SHADOW_MAX) h.buf.shadow = data.slice();
  }

  download(t: Tensor): Float32Array {
    checkTensor('download', 't', t, this.name);
    const h = handleOf(t);
    return this.client.read([{ id: h.buf.id, byteOffset: h.offset * 4, bytes: t.size * 4 }])[0];
  }

  zero(t: Tensor): void {
    checkTensor('zero', 't', t, this.name);
    const h = handleOf(t);
    this.client.clear(h.buf.id, h.offset * 4, t.size * 4);
    h.buf.shadow?.fill(0, h.offset, h.offset + t.size);
  }

  copy(src: Tensor, dst: Tensor): void {
    checkCopy(src, dst, this.name);
    const s = handleOf(src), d = handleOf(dst);
    this.client.copy(s.buf.id, s.offset * 4, d.buf.id, d.offset * 4, src.size * 4);
    if (d.buf.shadow && s.buf.shadow) d.buf.shadow.set(s.buf.shadow.slice(s.offset, s.offset + src.size), d.offset);
    else d.buf.shadow = null;
  }

  dispose(t: Tensor): void {
    checkTensor('dispose', 't', t, this.name);
    const h = handleOf(t);
    t.cell.disposed = true;
    if (!h.buf.freed) {
      h.buf.freed = true;
      h.buf.shadow = null;
      if (!this.internalIds.delete(h.buf.id)) this.liveBytes -= h.buf.elements * 4;
      this.client.free(h.buf.id);
    }
  }

  stats(): BackendStats {
    return { allocations: this.allocations, liveBytes: this.liveBytes };
  }

  /**
   * The current values of t for a host-side check: from the shadow when the host knows them, else by
   * downloading (a sync).
   */
  hostValues(t: Tensor): Float32Array {
    const h = handleOf(t);
    if (h.buf.shadow) return h.buf.shadow.subarray(h.offset, h.offset + t.size);
    return this.download(t);
  }

  /** Host values of several tensors with at most one device round trip. */
  hostValuesOf(ts: readonly Tensor[]): Float32Array[] {
    const missing = ts.filter((t) => handleOf(t).buf.shadow === null);
    if (missing.length > 1) {
      const got = this.client.read(missing.map((t) => ({ id: handleOf(t).buf.id, byteOffset: handleOf(t).offset * 4, bytes: t.size * 4 })));
      return ts.map((t) => {
        const i = missing.indexOf(t);
        return i >= 0 ? got[i] : this.hostValues(t);
      });
    }
    return ts.map((t) => this.hostValues(t));
  }
}
