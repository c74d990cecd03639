// The CUDA backends: `cuda` (the kernels of kernels/cuda compiled by nvcc, on a GPU) and `cuda-emu` (the very
// same kernels compiled by g++ through kernels/cuda/cuda_emu.h, with host memory as device memory: slow, for
// verification on machines without a GPU). Tensors live on the device; the op methods come from the op table
// (../table-backend.ts) and the kernels are the addon's functions (../native-ops.ts), as for the cpu. Only
// scalars (sumSquares) and explicit downloads come back to the host: the table's value checks of batch-sized
// inputs (labels, weights, group ids) read host shadows of what the host uploaded (device-storage.ts), and
// the values a kernel wrote are checked on the device and reported with the next download (device-checks.ts).
import { nativeKernels } from '../native-ops';
import type { DeferredCheck } from '../ops/check-call';
import { TableBackend, type Kernels } from '../table-backend';
import type { Tensor } from '../tensor';
import { CudaFlavour, loadCudaAddon } from './addon';
import { DeviceStorage, dv } from './device-storage';
import type { CudaAddon, CudaComputeMode, CudaInfo, EmuOrder } from './native-api';

export class CudaBackend extends TableBackend {
  readonly name: CudaFlavour;
  private readonly native: CudaAddon;
  protected readonly memory: DeviceStorage;
  protected readonly kernels: Kernels;
  private readonly deviceInfo: CudaInfo;

  /** Throws "<flavour> unavailable: <reason>" when the addon is missing or the runtime finds no device. */
  constructor(flavour: CudaFlavour) {
    super();
    this.name = flavour;
    const r = loadCudaAddon(flavour);
    if (!r.ok) throw new Error(`${flavour} unavailable: ${r.reason}`);
    const info = r.addon.info();
    if (!info.available) throw new Error(`${flavour} unavailable: ${info.reason}`);
    this.native = r.addon;
    this.memory = new DeviceStorage(flavour, r.addon);
    this.kernels = nativeKernels(r.addon, dv);
    this.deviceInfo = info;
  }

  get description(): string {
    return this.deviceInfo.emulated
      ? 'CUDA kernels emulated on the CPU (one fiber per CUDA thread; for verification, slow)'
      : `CUDA kernels on ${this.deviceInfo.device ?? 'a GPU'}`;
  }

  info(): CudaInfo {
    return this.native.info();
  }

  /** Emulator only: run each block's threads in this order between barriers (tests of race freedom). */
  setSchedule(order: EmuOrder, seed = 1): void {
    this.native.setSchedule(order, seed);
  }

  /**
   * Precision: 'fp32' (default, CUDA cores); 'bf16' (GEMMs and attention on tensor cores: operands rounded to
   * bf16, fp32 accumulation); or 'tf32' (GEMMs on tensor cores with operands rounded to tf32, 10 mantissa bits,
   * as PyTorch's allow_tf32; attention stays fp32). Tensor-core modes need sm_80 or later (and run on the
   * emulator). The mode belongs to the addon, so it holds for every backend instance of this flavour in the
   * process.
   */
  setComputeMode(mode: CudaComputeMode): void {
    this.native.setComputeMode(mode);
  }

  get computeMode(): CudaComputeMode {
    return this.native.info().computeMode;
  }

  protected hostValues(t: Tensor): Float32Array {
    return this.memory.shadowValues(t) ?? this.memory.download(t);
  }

  /** The table's value checks read host shadows; a tensor without one is checked on the device (deferCheck). */
  protected override hostValuesOf(ts: readonly Tensor[]): (Float32Array | null)[] {
    return ts.map((t) => this.memory.shadowValues(t));
  }

  protected override deferCheck = (c: DeferredCheck): void => this.memory.defer(c);

  protected override readonly tracksWrites = true;

  protected override wrote(ts: readonly Tensor[]): void {
    this.memory.wrote(ts);
  }

  /** An op returned a number (sumSquares): a blocking read, counted in stats().hostReads. */
  protected override returnedNumber(): void {
    this.memory.countRead();
  }
}
