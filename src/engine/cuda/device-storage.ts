// Memory management of the CUDA backends: a tensor's handle is a DeviceView {buf, offset, length} over a
// device buffer from the addon (cudaMalloc on a GPU, host memory under emulation). Views and slices share
// the buffer; dispose frees it at once (later use of any view is refused natively and in TypeScript).
import type { BackendStats, TensorMemory } from '../backend';
import { checkCopy, checkNewTensor, checkSlice0, checkTensor, checkUpload, checkView } from '../check';
import { Tensor } from '../tensor';
import type { CudaAddon, DeviceView } from './native-api';

export class DeviceStorage implements TensorMemory {
  private allocations = 0;
  private liveBytes = 0;

  constructor(readonly name: string, private readonly native: CudaAddon) {}

  tensor(shape: readonly number[], init?: Float32Array | readonly number[]): Tensor {
    const n = checkNewTensor(shape, init);
    const view: DeviceView = { buf: this.native.alloc(n), offset: 0, length: n };
    if (init !== undefined && n > 0) this.native.upload(view, init instanceof Float32Array ? init : Float32Array.from(init));
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
    if (t.size > 0) this.native.upload(dv(t), data);
  }

  download(t: Tensor): Float32Array {
    checkTensor('download', 't', t, this.name);
    const out = new Float32Array(t.size);
    if (t.size > 0) this.native.download(dv(t), out);
    return out;
  }

  zero(t: Tensor): void {
    checkTensor('zero', 't', t, this.name);
    if (t.size > 0) this.native.zero(dv(t), t.size);
  }

  copy(src: Tensor, dst: Tensor): void {
    checkCopy(src, dst, this.name);
    if (src.size > 0) this.native.copy(dv(src), dv(dst), src.size);
  }

  dispose(t: Tensor): void {
    checkTensor('dispose', 't', t, this.name);
    const view = dv(t);
    this.native.free(view.buf);
    this.liveBytes -= view.length * 4;
    t.cell.disposed = true;
  }

  stats(): BackendStats {
    return { allocations: this.allocations, liveBytes: this.liveBytes };
  }
}

/** The device view behind a tensor of a CUDA backend. */
export function dv(t: Tensor): DeviceView {
  return t.handle as DeviceView;
}
