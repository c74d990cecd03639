// The cpu backend: host Float32Arrays (zero copy) processed by the native addon's kernels (AVX-512 / AVX2 /
// scalar, all cores). Its op methods come from the op table (../table-backend.ts) and its kernels are the
// addon's functions (../native-ops.ts), as for the CUDA backends; this class adds loading the addon and its
// CPU controls (ISA, threads, bf16).
import { OpError } from '../check';
import { NamedHostStorage, hostData } from '../host-storage';
import { nativeKernels } from '../native-ops';
import { TableBackend, type Kernels } from '../table-backend';
import type { Tensor } from '../tensor';
import { loadAddon } from './addon';
import type { ComputeMode, IsaName, NativeAddon, NativeInfo } from './native-api';

export class CpuBackend extends TableBackend {
  readonly name = 'cpu';
  private readonly native: NativeAddon;
  protected readonly memory: NamedHostStorage;
  protected readonly kernels: Kernels;

  /** Throws "cpu unavailable: <reason>" when the addon cannot be loaded. */
  constructor() {
    super();
    const r = loadAddon();
    if (!r.ok) throw new Error(`cpu unavailable: ${r.reason}`);
    this.native = r.addon;
    this.memory = new NamedHostStorage('cpu', (a) => this.native.misalignment(a), (a) => this.native.adviseHugePages(a));
    this.kernels = nativeKernels(r.addon, hostData);
  }

  get description(): string {
    const i = this.info();
    const bf16 = i.computeMode === 'bf16' ? `bf16 GEMMs on ${i.bf16Kernel === 'amx' ? 'AMX tiles' : 'AVX512_BF16'}`
      : i.bf16Supported ? `fp32 (bf16 mode available: ${i.bf16Kernel === 'amx' ? 'AMX' : 'AVX512_BF16'}, FAIRTUNE_COMPUTE=bf16)` : 'fp32 (no bf16 mode: the CPU lacks AVX512_BF16)';
    return `native C++ kernels, ${i.isa}${i.isa !== i.detectedIsa ? ` (CPU supports ${i.detectedIsa})` : ''}, ${i.threads} thread${i.threads === 1 ? '' : 's'}, ${bf16}`;
  }

  info(): NativeInfo {
    return this.native.info();
  }

  /** Lowers the kernel ISA (tests cover every path this way); throws if the CPU lacks it. */
  setIsa(isa: IsaName): void {
    this.native.setIsa(isa);
  }

  setThreads(n: number): void {
    this.native.setThreads(n);
  }

  /**
   * Precision of the GEMMs (linear layers, patch embedding): 'fp32' (default) or 'bf16', where inputs are
   * rounded to bfloat16 and products summed in fp32 (AVX512_BF16: about twice the fp32 rate). Parameters,
   * gradients, optimiser state and every other op stay fp32. Process-wide (the addon is shared); also set by
   * FAIRTUNE_COMPUTE=bf16. Throws on a CPU without AVX512_BF16. With a lowered ISA (setIsa('avx2')) the fp32
   * kernels run whatever the mode.
   */
  setComputeMode(mode: ComputeMode): void {
    if (mode !== 'fp32' && mode !== 'bf16') throw new OpError('setComputeMode', `mode must be 'fp32' or 'bf16', got ${String(mode)}`);
    this.native.setComputeMode(mode);
  }

  protected hostValues(t: Tensor): Float32Array {
    return hostData(t);
  }
}
