// Memory management of the CUDA backends: a tensor's handle is a DeviceView {buf, offset, length} over a
// device buffer from the addon (cudaMalloc on a GPU, host memory under emulation). Views and slices share
// the buffer; dispose frees it at once (later use of any view is refused natively and in TypeScript).
//
// Host shadows, as the webgpu backend keeps them: the op table's value rules (group ids, weights, labels)
// scan values on the host. A small buffer whose contents the host wrote (allocation, upload, zero, a copy
// between shadowed buffers) keeps a host copy, so checking a batch's labels costs no device round trip; a
// kernel that writes the buffer drops it (TableBackend.wrote), and a check of a buffer without a shadow
// downloads it, or, through the op table's checks (the backend's hostValuesOf), leaves the check to the device
// (device-checks.ts), whose verdicts come back with the next download. hostReads counts the blocking
// device-to-host reads.
import type { BackendStats, TensorMemory } from '../backend';
import { checkCopy, checkNewTensor, checkSlice0, checkTensor, checkUpload, checkView } from '../check';
import type { DeferredCheck } from '../ops/check-call';
import { Tensor } from '../tensor';
import { CHECK_SLOTS, DeviceChecks } from './device-checks';
import type { CudaAddon, DeviceBuffer, DeviceView } from './native-api';

/** Buffers up to this many elements keep a host shadow (the value-checked inputs are batch-sized). */
const SHADOW_MAX = 1 << 16;
/**
 * A whole-buffer upload up to this size starts a shadow too: the HR step's input buffer ([windows | labels],
 * one copy per step) is batch × samples long, 38,496 floats at B = 32 and up to 109 windows of 1,200 samples
 * here, while parameter tensors (uploaded at initialisation, never value-checked) stay unshadowed.
 */
const SHADOW_UPLOAD_MAX = 1 << 17;
/** Reads up to this many floats go through page-locked host memory (the HR step's results buffer is ~70). */
const PINNED_READ_MAX = 4096;

export class DeviceStorage implements TensorMemory {
  private allocations = 0;
  private liveBytes = 0;
  private hostReads = 0;
  private hostWrites = 0;
  /** The host copy of each shadowed buffer (alloc zero-fills, so a new small buffer starts with zeros). */
  private readonly shadows = new WeakMap<DeviceBuffer, Float32Array>();
  private readonly elements = new WeakMap<DeviceBuffer, number>();

  /** Value checks of tensors without a shadow, run on the device and read with the next download. */
  private readonly checks: DeviceChecks;

  constructor(readonly name: string, private readonly native: CudaAddon) {
    this.checks = new DeviceChecks(native, dv);
  }

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
    if (this.covers(v, t.size, SHADOW_UPLOAD_MAX)) this.shadows.set(v.buf, data.slice());
  }

  /** Whether a write of n elements at v rewrites v's whole (small) buffer: its shadow can start afresh. */
  private covers(v: DeviceView, n: number, max = SHADOW_MAX): boolean {
    return !this.shadows.has(v.buf) && v.offset === 0 && n === this.elements.get(v.buf) && n <= max;
  }

  download(t: Tensor): Float32Array {
    checkTensor('download', 't', t, this.name);
    const out = new Float32Array(t.size);
    const flags = this.checks.pendingFlags();
    if (t.size > 0) {
      const v = dv(t);
      // A small read (a step's results) lands in page-locked memory, a DMA without a staging copy; the device
      // checks' flags come back in the same round trip.
      const dst = t.size <= PINNED_READ_MAX ? this.pinned().subarray(0, t.size) : out;
      if (flags !== null) this.native.downloadPair(v, dst, flags, this.pinnedFlags(flags));
      else this.native.download(v, dst);
      this.hostReads++;
      if (dst !== out) out.set(dst);
      // The host now knows the whole buffer: it is shadowed until a kernel writes it again.
      if (this.covers(v, t.size)) this.shadows.set(v.buf, out.slice());
      if (flags !== null) this.checks.settle(this.pinnedFlags(flags));
    }
    return out;
  }

  /** A value check of a tensor the host has no shadow of: run on the device, reported at the next read. */
  defer(c: DeferredCheck): void {
    this.checks.add(c, () => this.readFlags());
  }

  /** The device checks' verdicts read on their own (every slot was taken before any download came). */
  private readFlags(): void {
    const flags = this.checks.pendingFlags();
    if (flags === null) return;
    const host = this.pinnedFlags(flags);
    this.native.download(flags, host);
    this.hostReads++;
    this.checks.settle(host);
  }

  /** Page-locked host memory for small reads: PINNED_READ_MAX floats, then room for every check's flags. */
  private pinnedMemory: Float32Array | null = null;
  private pinned(): Float32Array {
    this.pinnedMemory ??= this.native.allocPinned(PINNED_READ_MAX + 2 * CHECK_SLOTS);
    return this.pinnedMemory;
  }
  private pinnedFlags(flags: DeviceView): Float32Array {
    return this.pinned().subarray(PINNED_READ_MAX, PINNED_READ_MAX + flags.length);
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

  /** t's values for a host-side check when the host knows them (a shadow), else null: the check is deferred. */
  shadowValues(t: Tensor): Float32Array | null {
    const v = dv(t), shadow = this.shadows.get(v.buf);
    return shadow !== undefined ? shadow.subarray(v.offset, v.offset + t.size) : null;
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
