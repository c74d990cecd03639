// AdamW over a ParamStore: moments allocated once in the layout of the parameter arena, one fused device op
// per run of trainable parameters (ParamStore.trainableRuns), optional clipping by
// global norm computed and applied on the device (the only value that comes back to the host is the norm
// itself, and a training step reads it with its other results).
import type { Backend } from '../engine/backend';
import type { Tensor } from '../engine/tensor';
import type { ParamStore } from '../model/param-store';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global gradient norm to this value; 0 disables clipping. */
  clipNorm: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 1.0 };

export class AdamW {
  /** The moments in arenas of the parameter arena's layout, and each parameter's views into them by name. */
  private readonly m: Tensor;
  private readonly v: Tensor;
  private readonly moments = new Map<string, { m: Tensor; v: Tensor }>();
  /** Where update() has the device write the global norm before reading it back. */
  private readonly norm: Tensor;
  step = 0;

  constructor(private readonly backend: Backend, private readonly store: ParamStore, public config: AdamWConfig = DEFAULT_ADAMW) {
    this.norm = backend.tensor([1]);
    this.m = backend.tensor([store.values.size]);
    this.v = backend.tensor([store.values.size]);
    for (const p of store.list()) {
      this.moments.set(p.spec.name, { m: store.viewIn(this.m, p.spec.name), v: store.viewIn(this.v, p.spec.name) });
    }
  }

  /** One update at learning rate lr (the schedule's value); returns the pre-clipping gradient norm. */
  update(lr: number = this.config.lr): number {
    this.launchUpdate(lr, this.norm);
    const norm = this.backend.download(this.norm)[0];
    this.settle(norm);
    return norm;
  }

  /**
   * The update without a read: the global norm goes into `norm` (a [1] tensor, e.g. a slot of a step's
   * statistics buffer that comes back in the step's one read), and the clipping happens on the device. The
   * caller then passes the norm it read to settle(), which refuses a step whose norm is not finite (the
   * device left the parameters and moments untouched).
   */
  launchUpdate(lr: number, norm: Tensor): void {
    const c = this.config, be = this.backend;
    const runs = this.store.trainableRuns();
    be.globalNorm(runs.map((r) => r.grad), norm);
    this.step++;
    // One fused call per run of the arena (two for a full fine-tune: decayed, then not decayed).
    for (const r of runs) {
      be.adamw(r.value, r.grad, be.slice0(this.m, r.offset, r.size), be.slice0(this.v, r.offset, r.size), {
        lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: r.decays ? c.weightDecay : 0,
        step: this.step, maxNorm: c.clipNorm,
      }, norm);
    }
  }

  /** After launchUpdate: the norm it wrote, as read back; a norm that is not finite undoes the step count and throws. */
  settle(norm: number): void {
    if (Number.isFinite(norm)) return;
    this.step--;
    throw new Error(`AdamW: the gradient norm is ${norm} at step ${this.step + 1}; refusing to update`);
  }

  /** Moments as host arrays by parameter name (checkpoints). */
  downloadState(): Map<string, { m: Float32Array; v: Float32Array }> {
    const out = new Map<string, { m: Float32Array; v: Float32Array }>();
    for (const [n, mv] of this.moments) out.set(n, { m: this.backend.download(mv.m), v: this.backend.download(mv.v) });
    return out;
  }

  uploadState(state: ReadonlyMap<string, { m: Float32Array; v: Float32Array }>, step: number): void {
    for (const [n, mv] of this.moments) {
      const s = state.get(n);
      if (!s) throw new Error(`optimizer state has no moments for '${n}'`);
      this.backend.upload(mv.m, s.m);
      this.backend.upload(mv.v, s.v);
    }
    this.step = step;
  }
}
