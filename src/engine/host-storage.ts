// The memory half (TensorMemory) of the backends whose tensors live in host memory (reference and cpu): a
// tensor's handle is a Float32Array over an ArrayBuffer owned by JavaScript, which the native addon reads
// and writes in place (zero copy). Views are subarrays/reshapes of the same buffer.
// Given a way to read an array's address (the cpu backend's addon), every tensor starts on a 64-byte cache
// line: JavaScript's large ArrayBuffers begin 16 bytes past one, so each vector load of a row straddled two
// lines. A tensor is then a subarray of a buffer 60 bytes longer (at most 15 floats skipped).
// Given a way to advise huge pages (the cpu backend's addon), a tensor of 32 MiB or more (the parameter,
// gradient and AdamW arenas; the larger models' activations) starts on a 2 MiB boundary of a buffer 2 MiB
// longer, whose 2 MiB pages the kernel is asked to back with transparent huge pages: streamed through with
// 4 KiB pages, every page costs a TLB miss (AdamW measured 10% faster on huge pages, see native/addon.cc).
// 32 MiB is glibc's largest mmap threshold: a buffer that size is always freshly mapped, so the advice comes
// before any page is touched. The skipped head (under 2 MiB) holds only the allocator's header: it costs
// address space and the one page that header lies in (a 2 MiB one where huge pages are used for all memory).
import type { BackendStats, TensorMemory } from './backend';
import { checkCopy, checkNewTensor, checkSlice0, checkTensor, checkUpload, checkView } from './check';
import { StorageCell, Tensor } from './tensor';

/** Bytes past the last 64-byte boundary at which an array's first element lies. */
export type Misalignment = (a: Float32Array) => number;
/** The index of the first element of an array's first whole 2 MiB page (-1 if none), its huge pages advised. */
export type HugePageAdvice = (a: Float32Array) => number;

const LINE_BYTES = 64;
const HUGE_PAGE_FLOATS = (2 << 20) / 4;
const HUGE_MIN_FLOATS = (32 << 20) / 4;

export abstract class HostStorage implements TensorMemory {
  abstract readonly name: string;
  private allocations = 0;
  private liveBytes = 0;

  constructor(private readonly misalignment?: Misalignment, private readonly hugePages?: HugePageAdvice) {}

  tensor(shape: readonly number[], init?: Float32Array | readonly number[]): Tensor {
    const n = checkNewTensor(shape, init);
    const data = this.allocate(n);
    if (init !== undefined) data.set(init);
    this.allocations++;
    this.liveBytes += n * 4;
    return new Tensor(this.name, [...shape], data, { disposed: false });
  }

  /** n zeroed floats, starting on a cache line when the misalignment can be read (on a huge page if large). */
  private allocate(n: number): Float32Array {
    if (this.hugePages && n >= HUGE_MIN_FLOATS) {
      // A buffer 2 MiB longer than the tensor always holds a whole 2 MiB page within its first 2 MiB.
      const raw = new Float32Array(n + HUGE_PAGE_FLOATS);
      const start = this.hugePages(raw);
      if (!(start >= 0 && start < HUGE_PAGE_FLOATS)) {
        throw new Error(`host storage: no whole 2 MiB page in the first 2 MiB of a buffer (index ${start})`);
      }
      return raw.subarray(start, start + n);
    }
    if (!this.misalignment || n === 0) return new Float32Array(n);
    const raw = new Float32Array(n + LINE_BYTES / 4 - 1);
    const off = this.misalignment(raw);
    // Float32Array elements are 4-byte aligned, so the gap to the next line is a whole number of floats.
    const skip = off === 0 ? 0 : (LINE_BYTES - off) / 4;
    return raw.subarray(skip, skip + n);
  }

  view(t: Tensor, shape: readonly number[]): Tensor {
    checkView(t, shape, this.name);
    return new Tensor(this.name, [...shape], t.handle, t.cell);
  }

  /** Rows [start, start + count) of dim 0, sharing storage (micro-batches, per-window slices). */
  slice0(t: Tensor, start: number, count: number): Tensor {
    const inner = checkSlice0(t, start, count, this.name);
    const data = (t.handle as Float32Array).subarray(start * inner, (start + count) * inner);
    return new Tensor(this.name, [count, ...t.shape.slice(1)], data, t.cell);
  }

  upload(t: Tensor, data: Float32Array): void {
    checkUpload(t, data, this.name);
    (t.handle as Float32Array).set(data);
  }

  download(t: Tensor): Float32Array {
    checkTensor('download', 't', t, this.name);
    return (t.handle as Float32Array).slice();
  }

  zero(t: Tensor): void {
    checkTensor('zero', 't', t, this.name);
    (t.handle as Float32Array).fill(0);
  }

  copy(src: Tensor, dst: Tensor): void {
    checkCopy(src, dst, this.name);
    (dst.handle as Float32Array).set(src.handle as Float32Array);
  }

  dispose(t: Tensor): void {
    checkTensor('dispose', 't', t, this.name);
    this.liveBytes -= (t.handle as Float32Array).length * 4;
    t.cell.disposed = true;
  }

  stats(): BackendStats {
    return { allocations: this.allocations, liveBytes: this.liveBytes };
  }
}

/** Host memory under a given backend name, for backends that hold it rather than extend it. */
export class NamedHostStorage extends HostStorage {
  constructor(readonly name: string, misalignment?: Misalignment, hugePages?: HugePageAdvice) {
    super(misalignment, hugePages);
  }
}

/** The Float32Array behind a host tensor (for backends and tests on host backends only). */
export function hostData(t: Tensor): Float32Array {
  return t.handle as Float32Array;
}

export type { StorageCell };
