// Memory management of the CUDA backends: a tensor's handle is a DeviceView {buf, offset, length} over a
// device buffer from the addon (cudaMalloc on a GPU, host memory under emulation). Views and slices share
// the buffer; dispose frees it at once (later use of any view is refused natively and in TypeScript).
//
// Host shadows, as the webgpu backend keeps them: the op table's value rules (group ids, weights, labels)
// scan values on the host. A small buffer whose contents the host wrote (allocation, upload, zero, a copy
// between shadowed buffers) keeps a host copy, so checking a batch's labels costs no device round trip; a
// kernel that writes the buffer drops it (TableBackend.wrote), and a check of a buffer without a shadow
// downloads it. hostReads counts the blocking device-to-host reads.
import type { BackendStats, TensorMemory } from '../backend';
import { checkCopy, checkNewTensor, checkSlice0, checkTensor, checkUpload, checkView } from '../check';
import { Tensor } from '../tensor';
import type { CudaAddon, DeviceBuffer, DeviceView } from './native-api';

/** Buffers up to this many elements keep a host shadow (the value-checked inputs are batch-sized). */
const SHADOW_MAX = 1 << 16;

export class DeviceStorage implements TensorMemory {
  private allocations = 0;
  private liveBytes = 0;
  private hostReads = 0;
  private hostWrites = 0;
  /** The host copy of each shadowed buffer (alloc zero-fills, so a new small buffer starts with zeros). */
  private readonly shadows = new WeakMap<DeviceBuffer, Float32Array>();
  private readonly elements = new WeakMap<DeviceBuffer, number>();

  constructor(readonly name: string, private readonly native: CudaAddon) {}

  tensor(shape: readonly number[], init?: Float32Array | readonly number[]): Tensor {
    const n = checkNewTensor(shape, init);
    const view: DeviceView = { buf: this.native.alloc(n), offset: 0, length: n };
    this.elements.set(view.buf, n);
    if (n <= SHADOW_MAX) this.shadows.set(view.buf, new Float32Array(n));
    if (init !== undefined && n > 0) {
      const data = init instanceof Float32Array ? init : Float32Array.from(init);
      this.native.upload(view, data);
      this.hostWrites++;
      this.shadows.get(view.buf)?.set(data);
    }
    this.allocations++;
    this.liveBytes += n * 4;
    return new Tensor(this.name, [...shape], view, { disposed: false });
  }

  view(t: Tensor, shape: readonly number[]): Tensor {
    checkView(t, shape, this.name);
    return new Tensor(this.name, [...shape], t.handle, t.cell);
  }

  slice0(t: Tensor, start: number, count: number): Tensor {
    const inner = checkSlice0(t, start, count, this.name);
    const base = t.handle as DeviceView;
    const view: DeviceView = { buf: base.buf, offset: base.offset + start * inner, length: count * inner };
    return new Tensor(this.name, [count, ...t.shape.slice(1)], view, t.cell);
  }

  upload(t: Tensor, data: Float32Array): void {
    checkUpload(t, data, this.name);
    if (t.size === 0) return;
    const v = dv(t);
    this.native.upload(v, data);
    this.hostWrites++;
    this.shadows.get(v.buf)?.set(data, v.offset);
    if (this.covers(v, t.size)) this.shadows.set(v.buf, data.slice());
  }

  /** Whether a write of n elements at v rewrites v's whole (small) buffer: its shadow can start afresh. */
  private covers(v: DeviceView, n: number): boolean {
    return !this.shadows.has(v.buf) && v.offset === 0 && n === this.elements.get(v.buf) && n <= SHADOW_MAX;
  }

  download(t: Tensor): Float32Array {
    checkTensor('download', 't', t, this.name);
    const out = new Float32Array(t.size);
    if (t.size > 0) {
      const v = dv(t);
      this.native.download(v, out);
      this.hostReads++;
      // The host now knows the whole buffer: it is shadowed until a kernel writes it again.
      if (this.covers(v, t.size)) this.shadows.set(v.buf, out.slice());
    }
    return out;
  }

  zero(t: Tensor): void {
    checkTensor('zero', 't', t, this.name);
    if (t.size === 0) return;
    const v = dv(t);
    this.native.zero(v, t.size);
    this.shadows.get(v.buf)?.fill(0, v.offset, v.offset + t.size);
  }

  copy(src: Tensor, dst: Tensor): void {
    checkCopy(src, dst, this.name);
    if (src.size === 0) return;
    const s = dv(src), d = dv(dst);
    this.native.copy(s, d, src.size);
    const from = this.shadows.get(s.buf);
    if (from === undefined) {
      this.shadows.delete(d.buf);
      return;
    }
    const values = from.slice(s.offset, s.offset + src.size);
    if (this.covers(d, src.size)) this.shadows.set(d.buf, values);
    else this.shadows.get(d.buf)?.set(values, d.offset);
  }

  /** A kernel wrote these tensors: their buffers' host copies are stale. */
  wrote(ts: readonly Tensor[]): void {
    for (const t of ts) this.shadows.delete(dv(t).buf);
  }

  /**
   * t's values for a host-side check: the shadow when the host knows them, else a download, of the whole
   * buffer when it is small (it then becomes the shadow, so checks of the buffer's other views are free).
   */
  hostValues(t: Tensor): Float32Array {
    const v = dv(t);
    let shadow = this.shadows.get(v.buf);
    const n = this.elements.get(v.buf) ?? 0;
    if (shadow === undefined && n <= SHADOW_MAX) {
      shadow = new Float32Array(n);
      this.native.download({ buf: v.buf, offset: 0, length: n }, shadow);
      this.hostReads++;
      this.shadows.set(v.buf, shadow);
    }
    return shadow !== undefined ? shadow.subarray(v.offset, v.offset + t.size) : this.download(t);
  }

  dispose(t: Tensor): void {
    checkTensor('dispose', 't', t, this.name);
    const view = dv(t);
    this.native.free(view.buf);
    this.liveBytes -= view.length * 4;
    t.cell.disposed = true;
  }

  stats(): BackendStats {
    return { allocations: this.allocations, liveBytes: this.liveBytes, hostReads: this.hostReads, hostWrites: this.hostWrites };
  }

  /** An op returned a value to the host (sumSquares): a blocking read too. */
  countRead(): void {
    this.hostReads++;
  }
}

/** The device view behind a tensor of a CUDA backend. */
export function dv(t: Tensor): DeviceView {
  return t.handle as DeviceView;
}
