// Parameters, their gradients and (lazily) optimiser moments, all as device tensors allocated once.
import type { Backend } from '../engine/backend';
import type { Tensor } from '../engine/tensor';
import { Rng } from '../util/random';
import type { ModelConfig } from './config';
import type { ParamSpec } from './params';

export interface Param {
  spec: ParamSpec;
  value: Tensor;
  grad: Tensor;
  /** False when frozen: its gradient is not accumulated and the optimiser skips it. */
  trainable: boolean;
}

export class ParamStore {
  readonly params = new Map<string, Param>();

  constructor(readonly backend: Backend, specs: readonly ParamSpec[]) {
    for (const spec of specs) {
      this.params.set(spec.name, {
        spec,
        value: backend.tensor(spec.shape),
        grad: backend.tensor(spec.shape),
        trainable: true,
      });
    }
  }

  get(name: string): Param {
    const p = this.params.get(name);
    if (!p) throw new Error(`unknown parameter '${name}'`);
    return p;
  }

  value(name: string): Tensor {
    return this.get(name).value;
  }

  /** The gradient tensor, or null when the parameter is frozen (ops then skip that gradient). */
  grad(name: string): Tensor | null {
    const p = this.get(name);
    return p.trainable ? p.grad : null;
  }

  list(): Param[] {
    return [...this.params.values()];
  }

  /**
   * GPT-2-style initialisation, seeded: weights N(0, 0.02), residual projections (w_concat, linear2)
   * N(0, 0.02/√(2·layers)), biases 0, norm scales 1. Parameters are visited in spec order, so the same seed
   * gives the same model on every backend.
   */
  initialise(config: ModelConfig, seed: number): void {
    const rng = new Rng(seed);
    for (const p of this.params.values()) {
      const data = new Float32Array(p.value.size);
      switch (p.spec.init) {
        case 'normal': rng.fillNormal(data, 0.02); break;
        case 'residual': rng.fillNormal(data, 0.02 / Math.sqrt(2 * config.layers)); break;
        case 'ones': data.fill(1); break;
        // As peft: A ~ U(−1/√D, 1/√D) (Kaiming-uniform with a = √5), B = 0, so an adapter starts as a no-op.
        case 'lora': {
          const bound = 1 / Math.sqrt(p.spec.shape[1]);
          rng.fillUniform(data, -bound, bound);
          break;
        }
        case 'zeros': break;
      }
      this.backend.upload(p.value, data);
    }
  }

  zeroGrads(): void {
    for (const p of this.params.values()) if (p.trainable) this.backend.zero(p.grad);
  }

  /** Host copies of all values by name (checkpoints, traces). */
  downloadValues(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [n, p] of this.params) out.set(n, this.backend.download(p.value));
    return out;
  }

  downloadGrads(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [n, p] of this.params) out.set(n, this.backend.download(p.grad));
    return out;
  }

  /** Loads values by name; every parameter must be present with its exact shape. */
  uploadValues(values: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, opts: { allowMissing?: (name: string) => boolean } = {}): void {
    for (const [name, p] of this.params) {
      const v = values.get(name);
      if (!v) {
        if (opts.allowMissing?.(name)) continue;
        throw new Error(`checkpoint has no parameter '${name}'`);
      }
      if (v.shape.length !== p.spec.shape.length || v.shape.some((d, i) => d !== p.spec.shape[i])) {
        throw new Error(`parameter '${name}' has shape [${v.shape.join(', ')}] in the checkpoint, the model needs [${p.spec.shape.join(', ')}]`);
      }
      this.backend.upload(p.value, v.data);
    }
  }

  count(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.value.size;
    return n;
  }
}
