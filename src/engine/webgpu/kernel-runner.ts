// Turns one kernel call (a KernelDef, its tensors, scalars and grid) into a queued dispatch: resolves the
// tensors to distinct buffer bindings, generates the WGSL once per (kernel, constants, binding plan) and
// caches the pipeline under that key, packs the uniforms, and drops the host shadows of written buffers.
import type { Tensor } from '../tensor';
import type { DeviceClient } from './device-client';
import { handleOf } from './storage';
import { BindingPlan, KernelDef, kernelSource, packUniforms } from './wgsl';

export type Grid = [number, number, number];

export class KernelRunner {
  private readonly pipelines = new Map<string, number>();
  /** Distinct WGSL sources compiled so far (tests and benchmarks read this). */
  compiled = 0;

  constructor(private readonly client: DeviceClient) {}

  get maxGroupsPerDim(): number {
    return this.client.limit('maxComputeWorkgroupsPerDimension');
  }

  /** A grid of `groups` workgroups folded into x and y so that neither exceeds the device limit. */
  grid1d(groups: number): Grid {
    const max = this.maxGroupsPerDim;
    if (groups <= max) return [groups, 1, 1];
    const y = Math.ceil(groups / max);
    return [Math.ceil(groups / y), y, 1];
  }

  run(
    def: KernelDef,
    tensors: Readonly<Record<string, Tensor | null>>,
    params: Readonly<Record<string, number>>,
    groups: Grid,
    consts: Readonly<Record<string, number | string>> = {},
  ): void {
    if (groups.some((g) => g === 0)) return;
    const max = this.maxGroupsPerDim;
    if (groups.some((g) => g > max)) throw new Error(`webgpu: ${def.entry} needs a grid of ${groups.join('×')} workgroups (device max ${max} per dimension)`);
    const ids: number[] = [];
    const layout: string[] = [];
    const bindingOf: number[] = [];
    const offsets: number[] = [];
    for (const t of def.tensors) {
      const tensor = tensors[t.name];
      if (tensor === undefined) throw new Error(`webgpu: ${def.entry} called without tensor ${t.name}`);
      if (tensor === null) {
        bindingOf.push(-1);
        offsets.push(0);
        continue;
      }
      const h = handleOf(tensor);
      let b = ids.indexOf(h.buf.id);
      if (b < 0) {
        b = ids.length;
        ids.push(h.buf.id);
        layout.push('r');
      }
      if (t.write) {
        layout[b] = 'w';
        h.buf.shadow = null;
      }
      bindingOf.push(b);
      offsets.push(h.offset);
    }
    if (ids.length === 0) throw new Error(`webgpu: ${def.entry} has no tensor bound`);
    const plan: BindingPlan = { bindingOf, layout: layout.join('') };
    const allConsts = { ...def.consts, ...consts };
    const key = `${def.file}#${def.entry}|${JSON.stringify(allConsts)}|${bindingOf.join(',')}|${plan.layout}`;
    let pipeline = this.pipelines.get(key);
    if (pipeline === undefined) {
      const code = kernelSource(def, plan, allConsts);
      pipeline = this.client.pipeline(code, def.entry, plan.layout, `${def.file}#${def.entry}`);
      this.pipelines.set(key, pipeline);
      this.compiled++;
    }
    this.client.dispatch(pipeline, plan.layout, ids, packUniforms(def, offsets, params), groups, def.entry);
  }
}
