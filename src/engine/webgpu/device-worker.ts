/// <reference types="@webgpu/types" />
// The device worker: a worker thread that owns the GPUDevice (Dawn through the `webgpu` package) and
// executes the command batches the main thread posts. It exists because the Backend interface is
// synchronous while WebGPU readback is not: mapAsync resolves only when this thread's event loop runs, so
// the main thread cannot wait for it in place (blocking its own loop would block the very callback it waits
// for). Here the event loop stays free; the main thread blocks in Atomics.wait on a SharedArrayBuffer and
// this thread answers through it. Encoding and submitting are synchronous in Dawn, so batches cost no waits.
//
// Self-contained on purpose (only node built-ins and the `webgpu` package): under ts-jest this file is
// transpiled on its own and started with `eval`, so it must not import project modules at run time.
import { parentPort, workerData } from 'worker_threads';
import type { BatchMessage, Command, DeviceDescription, ReadRequest, WorkerInit, WorkerMessage } from './protocol';

const DONE = 0;
const STATUS = 1;
const TEXT_LENGTH = 2;

const init = workerData as WorkerInit;
const ctrl = new Int32Array(init.ctrl);
const text = new Uint8Array(init.text);

let gpu: GPU | null = null;
let device: GPUDevice | null = null;
const buffers = new Map<number, GPUBuffer>();
const pipelines = new Map<number, GPUComputePipeline>();
const layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
/** Storage bind groups by layout + buffer ids; dropped when one of their buffers is freed. */
const bindGroups = new Map<string, GPUBindGroup>();
const bindGroupsOfBuffer = new Map<number, Set<string>>();
let uniformArena: GPUBuffer | null = null;
let uniformLayout: GPUBindGroupLayout | null = null;
let uniformGroup: GPUBindGroup | null = null;
let staging: GPUBuffer | null = null;
let scratch: GPUBuffer | null = null;
/** Errors not yet reported to the main thread (sticky: once the device failed, every sync reports it). */
const errors: string[] = [];
let failed = false;
/** Error-scope results still in flight; a sync waits for them before answering. */
let pendingScopes: Promise<void>[] = [];

function signal(seq: number, message: string | null, payload?: string): void {
  const bytes = new TextEncoder().encode(message ?? payload ?? '');
  const n = Math.min(bytes.length, text.length);
  text.set(bytes.subarray(0, n));
  Atomics.store(ctrl, TEXT_LENGTH, n);
  Atomics.store(ctrl, STATUS, message === null ? 0 : 1);
  Atomics.store(ctrl, DONE, seq);
  Atomics.notify(ctrl, DONE);
}

function dev(): GPUDevice {
  if (device === null) throw new Error('the device is not initialised');
  return device;
}

function buffer(id: number): GPUBuffer {
  const b = buffers.get(id);
  if (b === undefined) throw new Error(`unknown buffer ${id}`);
  return b;
}

async function start(): Promise<void> {
  // Mesa's EGL must use its surfaceless platform on a machine without a display. The worker shares the
  // process environment (SHARE_ENV), so this assignment is a real setenv that Mesa sees.
  if (process.env.EGL_PLATFORM === undefined) process.env.EGL_PLATFORM = 'surfaceless';
  // Loaded through import(): the package is an ES module. The Function wrapper keeps the TypeScript
  // CommonJS output from turning import() into require(), which cannot load an ES module in Node 20.
  const load = new Function('u', 'return import(u)') as (u: string) => Promise<{ create(o: string[]): GPU; globals: object }>;
  const mod = await load(init.webgpuUrl);
  Object.assign(globalThis, mod.globals);
  // A real GPU first (Vulkan, Metal, D3D12 by platform), then GLES, which on a machine without one is Mesa's
  // llvmpipe: the first hardware adapter wins; without one, the last candidate that gave any adapter (GLES,
  // the path this project is tested on) is kept rather than a software Vulkan (lavapipe).
  const tried: string[] = [];
  let chosen: { gpu: GPU; adapter: GPUAdapter; options: string[]; software: boolean } | null = null;
  for (const options of init.createOptions) {
    const g = mod.create(options);
    let found: GPUAdapter | null = null;
    try {
      found = await g.requestAdapter({ featureLevel: init.featureLevel } as GPURequestAdapterOptions);
    } catch (e) {
      tried.push(`${options.join(' ')}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    if (found === null) {
      tried.push(`${options.join(' ')}: no adapter`);
      continue;
    }
    const info = found.info;
    const software = /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.description} ${info.device} ${info.vendor}`) ||
      (found as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
    tried.push(`${options.join(' ')}: ${[info.description, info.device, info.vendor].filter((x) => x).join(', ') || 'an adapter'}${software ? ' (software)' : ''}`);
    chosen = { gpu: g, adapter: found, options, software };
    if (!software) break;
  }
  if (chosen === null) throw new Error(`no WebGPU adapter (${tried.join('; ')}) (is Mesa's EGL/GLES installed?)`);
  gpu = chosen.gpu;
  const adapter = chosen.adapter;
  const a = adapter.limits as unknown as Record<string, number>;
  // Raise the limits this engine's kernels use to what the adapter offers (compatibility mode starts low).
  const wanted = [
    'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage', 'maxStorageBufferBindingSize', 'maxBufferSize',
  ];
  const requiredLimits: Record<string, number> = {};
  for (const k of wanted) if (typeof a[k] === 'number') requiredLimits[k] = a[k];
  device = await adapter.requestDevice({ requiredLimits });
  device.lost.then((info) => {
    if (device !== null) {
      errors.push(`device lost: ${info.message}`);
      failed = true;
    }
  }).catch(() => undefined);
  device.addEventListener('uncapturederror', (ev) => {
    errors.push(`uncaptured GPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`);
    failed = true;
  });
  uniformArena = device.createBuffer({ size: init.uniformArenaBytes + init.uniformBindingBytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  uniformLayout = device.createBindGroupLayout({
    entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } }],
  });
  uniformGroup = device.createBindGroup({
    layout: uniformLayout,
    entries: [{ binding: 0, resource: { buffer: uniformArena, offset: 0, size: init.uniformBindingBytes } }],
  });
  const limits: Record<string, number> = {};
  for (const k in device.limits) limits[k] = (device.limits as unknown as Record<string, number>)[k];
  const i = adapter.info;
  const name = [i.description, i.device, i.vendor].filter((s) => s !== undefined && s !== '').join(', ');
  const desc: DeviceDescription = { adapter: name || 'unknown adapter', limits, options: chosen.options, software: chosen.software, tried };
  signal(1, null, JSON.stringify(desc));
}

function layoutFor(layout: string): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
  let l = layouts.get(layout);
  if (l === undefined) {
    const d = dev();
    const group = d.createBindGroupLayout({
      entries: [...layout].map((ch, binding) => ({
        binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: ch === 'w' ? 'storage' : 'read-only-storage' } as GPUBufferBindingLayout,
      })),
    });
    l = { group, pipeline: d.createPipelineLayout({ bindGroupLayouts: [group, uniformLayout!] }) };
    layouts.set(layout, l);
  }
  return l;
}

function bindGroup(layout: string, ids: number[]): GPUBindGroup {
  const key = `${layout}:${ids.join(',')}`;
  let g = bindGroups.get(key);
  if (g === undefined) {
    g = dev().createBindGroup({
      layout: layoutFor(layout).group,
      entries: ids.map((id, binding) => ({ binding, resource: { buffer: buffer(id) } })),
    });
    bindGroups.set(key, g);
    for (const id of ids) {
      let s = bindGroupsOfBuffer.get(id);
      if (s === undefined) bindGroupsOfBuffer.set(id, (s = new Set()));
      s.add(key);
    }
  }
  return g;
}

function ensureScratch(bytes: number): GPUBuffer {
  if (scratch === null || scratch.size < bytes) {
    scratch?.destroy();
    scratch = dev().createBuffer({ size: Math.max(bytes, 1024), usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  }
  return scratch;
}

/** Runs one batch: commands in order, consecutive dispatches in one compute pass. */
function runCommands(cmds: Command[], uniforms: ArrayBuffer): string[] {
  const d = dev();
  const ops = new Set<string>();
  let enc: GPUCommandEncoder | null = null;
  let pass: GPUComputePassEncoder | null = null;
  const encoder = (): GPUCommandEncoder => (enc ??= d.createCommandEncoder());
  const endPass = (): void => {
    pass?.end();
    pass = null;
  };
  const submit = (): void => {
    endPass();
    if (enc !== null) d.queue.submit([enc.finish()]);
    enc = null;
  };
  if (uniforms.byteLength > 0) d.queue.writeBuffer(uniformArena!, 0, uniforms);
  for (const cmd of cmds) {
    switch (cmd.c) {
      case 'alloc':
        buffers.set(cmd.id, d.createBuffer({
          size: cmd.bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        }));
        break;
      case 'free': {
        // Work already encoded may use the buffer: submit it first (destroy waits for submitted work).
        submit();
        buffer(cmd.id).destroy();
        buffers.delete(cmd.id);
        for (const key of bindGroupsOfBuffer.get(cmd.id) ?? []) bindGroups.delete(key);
        bindGroupsOfBuffer.delete(cmd.id);
        break;
      }
      case 'write':
        // queue.writeBuffer is ordered against submits, not against commands still being encoded.
        submit();
        d.queue.writeBuffer(buffer(cmd.id), cmd.byteOffset, cmd.data.buffer, cmd.data.byteOffset, cmd.data.byteLength);
        break;
      case 'clear':
        endPass();
        encoder().clearBuffer(buffer(cmd.id), cmd.byteOffset, cmd.bytes);
        break;
      case 'copy': {
        endPass();
        const e = encoder();
        if (cmd.src === cmd.dst) {
          // WebGPU forbids a buffer-to-itself copy; go through scratch (also right for overlapping ranges).
          const s = ensureScratch(cmd.bytes);
          e.copyBufferToBuffer(buffer(cmd.src), cmd.srcOffset, s, 0, cmd.bytes);
          e.copyBufferToBuffer(s, 0, buffer(cmd.dst), cmd.dstOffset, cmd.bytes);
        } else {
          e.copyBufferToBuffer(buffer(cmd.src), cmd.srcOffset, buffer(cmd.dst), cmd.dstOffset, cmd.bytes);
        }
        break;
      }
      case 'pipeline': {
        const module = d.createShaderModule({ code: cmd.code, label: cmd.label });
        pipelines.set(cmd.key, d.createComputePipeline({
          label: cmd.label, layout: layoutFor(cmd.layout).pipeline, compute: { module, entryPoint: cmd.entry },
        }));
        ops.add(`compile ${cmd.label}`);
        break;
      }
      case 'dispatch': {
        const p = pipelines.get(cmd.pipeline);
        if (p === undefined) throw new Error(`unknown pipeline ${cmd.pipeline} (op ${cmd.op})`);
        pass ??= encoder().beginComputePass();
        pass.setPipeline(p);
        pass.setBindGroup(0, bindGroup(cmd.layout, cmd.buffers));
        pass.setBindGroup(1, uniformGroup!, [cmd.uniformOffset]);
        pass.dispatchWorkgroups(cmd.groups[0], cmd.groups[1], cmd.groups[2]);
        ops.add(cmd.op);
        break;
      }
    }
  }
  submit();
  return [...ops];
}

/** Copies the requested ranges into the sync's shared output buffer. */
async function readBack(reads: ReadRequest[], out: SharedArrayBuffer): Promise<void> {
  const d = dev();
  let total = 0;
  const at = reads.map((r) => {
    const o = total;
    total += r.bytes;
    return o;
  });
  if (total === 0) return;
  if (staging === null || staging.size < total) {
    staging?.destroy();
    staging = d.createBuffer({ size: Math.max(total, 4096), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }
  const enc = d.createCommandEncoder();
  reads.forEach((r, i) => enc.copyBufferToBuffer(buffer(r.id), r.byteOffset, staging!, at[i], r.bytes));
  d.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ, 0, total);
  const mapped = new Uint8Array(staging.getMappedRange(0, total));
  const dst = new Uint8Array(out);
  reads.forEach((r, i) => dst.set(mapped.subarray(at[i], at[i] + r.bytes), r.outOffset));
  staging.unmap();
}

async function handleBatch(m: BatchMessage): Promise<void> {
  const d = dev();
  if (!failed) {
    d.pushErrorScope('validation');
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('internal');
    let ops: string[] = [];
    try {
      ops = runCommands(m.cmds, m.uniforms);
    } catch (e) {
      errors.push(`device worker: ${e instanceof Error ? e.message : String(e)}`);
      failed = true;
    }
    for (let i = 0; i < 3; i++) {
      pendingScopes.push(d.popErrorScope().then((err) => {
        if (err !== null) {
          errors.push(`${err.message.trim()} (in a batch with: ${ops.join(', ')})`);
          failed = true;
        }
      }));
    }
  }
  if (m.sync === undefined) return;
  try {
    if (!failed && m.sync.out !== null) await readBack(m.sync.reads, m.sync.out);
    else await d.queue.onSubmittedWorkDone();
  } catch (e) {
    errors.push(`readback failed: ${e instanceof Error ? e.message : String(e)}`);
    failed = true;
  }
  const scopes = pendingScopes;
  pendingScopes = [];
  await Promise.all(scopes);
  signal(m.sync.seq, failed ? `webgpu device error: ${errors.join('; ') || 'unknown'}` : null);
}

async function shutdown(seq: number): Promise<void> {
  await Promise.all(pendingScopes);
  for (const b of buffers.values()) b.destroy();
  buffers.clear();
  staging?.destroy();
  scratch?.destroy();
  uniformArena?.destroy();
  pipelines.clear();
  layouts.clear();
  bindGroups.clear();
  bindGroupsOfBuffer.clear();
  uniformGroup = null;
  uniformLayout = null;
  staging = scratch = uniformArena = null;
  const d = device;
  device = null;
  d?.destroy();
  // Dropping the object create() returned lets Dawn stop; it must outlive the device (Dawn flushes callbacks).
  gpu = null;
  signal(seq, null);
  // The thread itself ends on a 'close' message, which the main side sends only when no other device worker
  // exists (DeviceClient.shutdown says why).
}

let chain: Promise<void> = Promise.resolve();
/** The newest sync the main thread may be blocked on (answered with the error if this thread crashes). */
let lastSeq = 1;

parentPort!.on('message', (m: WorkerMessage) => {
  if (m.type === 'close') {
    chain = chain.then(() => parentPort!.close());
    return;
  }
  if (m.type === 'shutdown') lastSeq = m.seq;
  else if (m.sync !== undefined) lastSeq = m.sync.seq;
  chain = chain.then(() => (m.type === 'batch' ? handleBatch(m) : shutdown(m.seq))).catch((e) => {
    errors.push(`device worker: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    failed = true;
    if (m.type === 'batch' && m.sync !== undefined) signal(m.sync.seq, `webgpu device error: ${errors.join('; ')}`);
    if (m.type === 'shutdown') signal(m.seq, `webgpu device error: ${errors.join('; ')}`);
  });
});

process.on('uncaughtException', (e) => {
  errors.push(`device worker crashed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  failed = true;
  signal(lastSeq, `webgpu device error: ${errors.join('; ')}`);
});

start().catch((e) => signal(1, `${e instanceof Error ? e.message : String(e)}`));
void gpu;
