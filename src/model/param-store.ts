// Parameters and their gradients as device tensors allocated once, in one flat arena each (the llm.c
// layout): every parameter is a view into the values arena and its gradient the view at the same offset of
// the gradients arena. The optimiser, the gradient norm and the zeroing then run over a few contiguous runs
// of the arenas (one call each per run) instead of one call per tensor. Names, shapes and checkpoints are
// unchanged: a parameter is still read and written by name through its view.
//
// Zeroing is deferred per parameter (zeroGrads): a gradient is zeroed when something first reads or adds to
// it, unless its first writer overwrites it (linearGrads: a linear layer's dW GEMM and bias sum, which are
// nearly all of the arena). That saves a pass over the arena and the dW GEMMs' reads of their old values.
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

/** Norm scales, biases and the start token are not decayed (the usual GPT practice). */
export function decays(spec: ParamSpec): boolean {
  return spec.shape.length >= 2 && !spec.name.endsWith('.bias');
}

/** Consecutive trainable parameters of the arena that share the decay rule: one slice of each arena. */
export interface ParamRun {
  /** Offset and length in the arenas, in floats. */
  offset: number;
  size: number;
  decays: boolean;
  value: Tensor;
  grad: Tensor;
}

/**
 * linearBackward for the layer whose weight and bias are the store's parameters w and b (b may be null): their
 * gradients are overwritten when this is their first write since zeroGrads (ParamStore.linearGrads).
 */
export function linearBackwardOf(
  store: ParamStore, dy: Tensor, x: Tensor, w: string, b: string | null, dx: Tensor | null, overwriteDx = false, reluOf: Tensor | null = null,
  reluScale = 1,
): void {
  const g = store.linearGrads(w, b);
  store.backend.linearBackward(dy, x, store.value(w), dx, g.dw, g.db, overwriteDx, reluOf, g.overwrite, reluScale);
}

export class ParamStore {
  readonly params = new Map<string, Param>();
  /** The arenas: every parameter's value and gradient are views into these. */
  readonly values: Tensor;
  /** Private: a gradient read straight from the arena could be one whose zeroing is still pending. */
  private readonly grads: Tensor;
  /** The gradient views, for the writers that overwrite them (linearGrads). */
  private readonly gradViews = new Map<string, Tensor>();
  /** Trainable parameters zeroed by zeroGrads whose gradient nothing has written since (see settle). */
  private readonly pendingZero = new Set<string>();
  /** stackedValue's views, made once (the arena never moves). */
  private readonly stackedValues = new Map<string, Tensor | null>();
  /** fanoutGrads' views of the gradient arena, likewise made once. */
  private readonly stackedGrads = new Map<string, Tensor>();
  /** The arena order: decayed parameters first, then the rest, each group in spec order. */
  private readonly order: { name: string; offset: number; size: number }[] = [];

  constructor(readonly backend: Backend, specs: readonly ParamSpec[]) {
    const sizeOf = (s: ParamSpec) => s.shape.reduce((a, b) => a * b, 1);
    const arenaOrder = [...specs.filter(decays), ...specs.filter((s) => !decays(s))];
    const offsets = new Map<string, number>();
    let total = 0;
    for (const s of arenaOrder) {
      offsets.set(s.name, total);
      this.order.push({ name: s.name, offset: total, size: sizeOf(s) });
      total += sizeOf(s);
    }
    this.values = backend.tensor([total]);
    this.grads = backend.tensor([total]);
    // The map keeps spec order: initialisation draws in it, so a seed gives the same model as before.
    const settle = (name: string) => this.settle(name);
    for (const spec of specs) {
      const at = offsets.get(spec.name)!, n = sizeOf(spec);
      const grad = backend.view(backend.slice0(this.grads, at, n), spec.shape);
      this.gradViews.set(spec.name, grad);
      this.params.set(spec.name, {
        spec,
        value: backend.view(backend.slice0(this.values, at, n), spec.shape),
        // Every use of the gradient goes through here, so a deferred zero happens before it is read or added to.
        get grad() {
          settle(spec.name);
          return grad;
        },
        trainable: true,
      });
    }
  }

  /** The view at `name`'s place in another arena of the same layout (the optimiser's moments). */
  viewIn(arena: Tensor, name: string): Tensor {
    const o = this.order.find((e) => e.name === name);
    if (o === undefined) throw new Error(`unknown parameter '${name}'`);
    return this.backend.view(this.backend.slice0(arena, o.offset, o.size), this.get(name).spec.shape);
  }

  /**
   * The trainable parameters as runs of the arenas: consecutive in arena order, trainable, the same decay
   * rule (a full fine-tune is two runs; freezing parts splits them where the frozen ones sit).
   */
  trainableRuns(): ParamRun[] {
    // The runs' gradients are read (the optimiser, the gradient norm): no zero may still be pending.
    this.settleAll();
    const runs: ParamRun[] = [];
    let cur: { offset: number; size: number; decays: boolean } | null = null;
    const close = () => {
      if (cur === null) return;
      const { offset, size } = cur;
      runs.push({ ...cur, value: this.backend.slice0(this.values, offset, size), grad: this.backend.slice0(this.grads, offset, size) });
      cur = null;
    };
    for (const o of this.order) {
      const p = this.get(o.name);
      if (!p.trainable || o.size === 0) {
        close();
        continue;
      }
      const d = decays(p.spec);
      if (cur !== null && cur.decays === d && cur.offset + cur.size === o.offset) cur.size += o.size;
      else {
        close();
        cur = { offset: o.offset, size: o.size, decays: d };
      }
    }
    close();
    return runs;
  }

  /** Frees the arenas (every parameter view with them). */
  dispose(): void {
    this.backend.dispose(this.values);
    this.backend.dispose(this.grads);
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

  /**
   * A linear layer's weight and bias gradients (each null when frozen, the bias also when absent) for a
   * backward that can write them instead of adding: overwrite is true when every trainable one still waits
   * for its zero since zeroGrads, so the op's write stands in for the zero pass (linearBackward's
   * overwriteDw). Otherwise (a second micro-batch, a weight used twice) they are zeroed if pending, and the op
   * adds.
   */
  linearGrads(w: string, b: string | null): { dw: Tensor | null; db: Tensor | null; overwrite: boolean } {
    const names = [w, b].filter((n): n is string => n !== null && this.get(n).trainable);
    if (names.length > 0 && names.every((n) => this.pendingZero.has(n))) {
      for (const n of names) this.pendingZero.delete(n);
      const view = (n: string | null) => (n !== null && names.includes(n) ? this.gradViews.get(n)! : null);
      return { dw: view(w), db: view(b), overwrite: true };
    }
    return { dw: this.grad(w), db: b === null ? null : this.grad(b), overwrite: false };
  }

  /**
   * The parameters `names` (one shape, adjacent in the arena in this order, as q, k and v's weights are and
   * their biases) as one view [G, ...shape] of the values arena, or null where they are not adjacent.
   */
  stackedValue(names: readonly string[]): Tensor | null {
    const key = names.join('\n');
    if (!this.stackedValues.has(key)) {
      const at = this.stackedRange(names);
      this.stackedValues.set(key, at === null ? null : this.backend.view(this.backend.slice0(this.values, at.offset, at.size), at.shape));
    }
    return this.stackedValues.get(key)!;
  }

  /**
   * linearGrads for G layers run as one linearFanout: the weights' and the biases' gradients as stacked views
   * (null when frozen or absent), overwrite as in linearGrads over all of them. Null where the fused backward
   * cannot stand for the G separate ones: the parameters are not adjacent, or some of the weights (or of the
   * biases) are trainable and others frozen; the caller then runs the G layers' own backwards.
   */
  fanoutGrads(ws: readonly string[], bs: readonly string[] | null): { dw: Tensor | null; db: Tensor | null; overwrite: boolean } | null {
    const groups = bs === null ? [ws] : [ws, bs];
    const trainable = groups.map((names) => names.map((n) => this.get(n).trainable));
    if (trainable.some((t) => t.some((x) => x !== t[0]))) return null;
    const ranges = groups.map((names) => this.stackedRange(names));
    if (ranges.some((r) => r === null)) return null;
    const live = groups.filter((_, i) => trainable[i][0]).flat();
    const overwrite = live.length > 0 && live.every((n) => this.pendingZero.has(n));
    if (overwrite) for (const n of live) this.pendingZero.delete(n);
    else for (const n of live) this.settle(n);
    const view = (i: number) => (i < groups.length && trainable[i][0] ? this.stackedGrad(groups[i]) : null);
    return { dw: view(0), db: view(1), overwrite };
  }

  /** The gradients of `names` (adjacent, checked by the caller) as one view of the gradient arena, made once. */
  private stackedGrad(names: readonly string[]): Tensor {
    const key = names.join('\n');
    let v = this.stackedGrads.get(key);
    if (v === undefined) {
      const r = this.stackedRange(names)!;
      v = this.backend.view(this.backend.slice0(this.grads, r.offset, r.size), r.shape);
      this.stackedGrads.set(key, v);
    }
    return v;
  }

  /** Where `names` lie in the arenas when they are adjacent there in this order and share one shape. */
  private stackedRange(names: readonly string[]): { offset: number; size: number; shape: number[] } | null {
    if (names.length === 0) return null;
    const shape = this.get(names[0]).spec.shape;
    const entries = names.map((n) => this.order.find((e) => e.name === n)!);
    for (let i = 0; i < names.length; i++) {
      const s = this.get(names[i]).spec.shape;
      if (s.length !== shape.length || s.some((d, j) => d !== shape[j])) return null;
      if (i > 0 && entries[i].offset !== entries[i - 1].offset + entries[i - 1].size) return null;
    }
    return { offset: entries[0].offset, size: entries.reduce((a, e) => a + e.size, 0), shape: [names.length, ...shape] };
  }

  /** Zeroes name's gradient if its zero is pending. */
  private settle(name: string): void {
    if (this.pendingZero.delete(name)) this.backend.zero(this.gradViews.get(name)!);
  }

  private settleAll(): void {
    for (const name of [...this.pendingZero]) this.settle(name);
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

  /**
   * Zeroes the trainable gradients, deferred: each is zeroed when first read or added to (settle), or not at
   * all when its first writer overwrites it (linearGrads).
   */
  zeroGrads(): void {
    for (const [name, p] of this.params) if (p.trainable) this.pendingZero.add(name);
  }

  /** Host copies of all values by name (checkpoints, traces). */
  downloadValues(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [n, p] of this.params) out.set(n, this.backend.download(p.value));
    return out;
  }

  downloadGrads(): Map<string, Float32Array> {
    this.settleAll();
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
