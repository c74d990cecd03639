// The synchronous facade over the asynchronous device: the main-thread half of the device worker pair.
// Commands (allocations, uploads, dispatches) are queued and posted to the worker in batches without
// waiting; a readback posts the batch with a sync request and blocks in Atomics.wait until the worker has
// run everything before it, copied the bytes into a SharedArrayBuffer and notified. Errors of the device
// (WGSL compile errors, validation errors) are collected by the worker and thrown here at the next sync.
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { SHARE_ENV, Worker } from 'worker_threads';
import { withDawnLog } from './dawn-log';
import type { BatchMessage, Command, DeviceDescription, ReadRequest, WorkerInit } from './protocol';

const DONE = 0;
const STATUS = 1;
const TEXT_LENGTH = 2;
const CONTROL_WORDS = 4;
const TEXT_BYTES = 1 << 16;

/** Every dispatch binds UNIFORM_BINDING bytes at a dynamic offset into the batch's uniform arena. */
export const UNIFORM_BINDING = 256;
const UNIFORM_ARENA = 1 << 16;
const MAX_BATCH_COMMANDS = 1024;
const MAX_BATCH_UPLOAD_BYTES = 32 << 20;
/** How long a sync may take before the worker is presumed dead (first kernels compile; llvmpipe is slow). */
const SYNC_TIMEOUT_MS = 600_000;

export interface DeviceOptions {
  /**
   * Options for the package's create(). Default: the platform's GPU backend first, then GLES (Mesa llvmpipe on a
   * CPU-only machine) (defaultCandidates); FAIRTUNE_WEBGPU_BACKEND=vulkan|metal|d3d12|opengles|null forces one.
   */
  createOptions?: string[];
  featureLevel?: 'compatibility' | 'core';
}

const BACKENDS = ['vulkan', 'metal', 'd3d12', 'opengles', 'null'];

/** Candidate create() options in order: a real GPU backend for this platform, then GLES. */
export function defaultCandidates(platform: string = process.platform, env: NodeJS.ProcessEnv = process.env): string[][] {
  const forced = env.FAIRTUNE_WEBGPU_BACKEND;
  if (forced !== undefined && forced !== '') {
    if (!BACKENDS.includes(forced)) throw new Error(`FAIRTUNE_WEBGPU_BACKEND must be one of ${BACKENDS.join(', ')}, got '${forced}'`);
    return [[`backend=${forced}`]];
  }
  const gpu = platform === 'darwin' ? ['metal'] : platform === 'win32' ? ['d3d12', 'vulkan'] : ['vulkan'];
  return [...gpu.map((b) => [`backend=${b}`]), ...(platform === 'darwin' ? [] : [['backend=opengles']])];
}

/** The device workers of this process that have not ended: live devices' and idle ones (see shutdown()). */
const workers = new Set<Worker>();

/** The worker script: compiled JavaScript next to this file (dist), else the TypeScript source transpiled now (ts-jest). */
function workerSource(): { file: string } | { code: string } {
  const js = path.join(__dirname, 'device-worker.js');
  if (fs.existsSync(js)) return { file: js };
  const ts = path.join(__dirname, 'device-worker.ts');
  if (!fs.existsSync(ts)) throw new Error(`the device worker script is missing (${js})`);
  // typescript is a devDependency: present exactly when running from the TypeScript sources.
  const typescript = require('typescript') as typeof import('typescript');
  const out = typescript.transpileModule(fs.readFileSync(ts, 'utf8'), {
    compilerOptions: { module: typescript.ModuleKind.CommonJS, target: typescript.ScriptTarget.ES2022 },
    fileName: ts,
  });
  return { code: out.outputText };
}

function resolveWebgpu(): string {
  let entry: string;
  try {
    entry = require.resolve('webgpu');
  } catch (e) {
    throw new Error(`the optional npm package 'webgpu' (Dawn) is not installed: ${e instanceof Error ? e.message : String(e)}`);
  }
  return pathToFileURL(entry).href;
}

export class DeviceClient {
  readonly description: DeviceDescription;
  private readonly worker: Worker;
  private readonly ctrl: Int32Array;
  private readonly text: Uint8Array;
  private cmds: Command[] = [];
  private transfers: ArrayBuffer[] = [];
  private uploadBytes = 0;
  private readonly uniforms = new Uint8Array(UNIFORM_ARENA);
  private uniformUsed = 0;
  private readonly uniformAlign: number;
  private seq = 1;
  private nextBuffer = 1;
  private nextPipeline = 1;
  private closed = false;

  /** Starts the worker and waits for its device; throws with the reason when there is none. */
  constructor(opts: DeviceOptions = {}) {
    const ctrl = new SharedArrayBuffer(CONTROL_WORDS * 4);
    const text = new SharedArrayBuffer(TEXT_BYTES);
    this.ctrl = new Int32Array(ctrl);
    this.text = new Uint8Array(text);
    const init: WorkerInit = {
      webgpuUrl: resolveWebgpu(),
      createOptions: opts.createOptions !== undefined ? [opts.createOptions] : defaultCandidates(),
      featureLevel: opts.featureLevel ?? 'compatibility',
      ctrl, text,
      uniformArenaBytes: UNIFORM_ARENA,
      uniformBindingBytes: UNIFORM_BINDING,
    };
    const src = workerSource();
    // SHARE_ENV: the worker's process.env is the process's real environment, so the EGL_PLATFORM it sets
    // reaches Mesa's getenv (a worker's own env is a copy, and so is the process.env jest gives tests).
    // Dawn's adapter warnings go to a debug log while the device starts (dawn-log.ts).
    const { worker, answer } = withDawnLog(() => {
      const w = 'file' in src
        ? new Worker(src.file, { workerData: init, env: SHARE_ENV })
        : new Worker(src.code, { eval: true, workerData: init, env: SHARE_ENV });
      // The process may exit while a backend is alive (the CLI never tears it down); the worker dies with it.
      w.unref();
      return { worker: w, answer: this.wait(1) };
    });
    this.worker = worker;
    if (answer.error !== null) {
      void this.worker.terminate();
      this.closed = true;
      throw new Error(answer.error);
    }
    this.description = JSON.parse(answer.text) as DeviceDescription;
    workers.add(this.worker);
    this.uniformAlign = Math.max(16, this.description.limits.minUniformBufferOffsetAlignment ?? 256);
  }

  limit(name: string): number {
    const v = this.description.limits[name];
    if (v === undefined) throw new Error(`webgpu: the device reports no limit ${name}`);
    return v;
  }

  private check(): void {
    if (this.closed) throw new Error('webgpu: the device has been shut down');
  }

  private push(cmd: Command): void {
    this.check();
    this.cmds.push(cmd);
    if (this.cmds.length >= MAX_BATCH_COMMANDS || this.uploadBytes >= MAX_BATCH_UPLOAD_BYTES) this.flush();
  }

  alloc(bytes: number): number {
    const id = this.nextBuffer++;
    this.push({ c: 'alloc', id, bytes: Math.max(4, Math.ceil(bytes / 4) * 4) });
    return id;
  }

  free(id: number): void {
    this.push({ c: 'free', id });
  }

  /** Queues an upload of a copy of `data` (the caller may reuse its array at once). */
  write(id: number, byteOffset: number, data: Float32Array): void {
    if (data.length === 0) return;
    const copy = data.slice();
    this.transfers.push(copy.buffer);
    this.uploadBytes += copy.byteLength;
    this.push({ c: 'write', id, byteOffset, data: copy });
  }

  clear(id: number, byteOffset: number, bytes: number): void {
    if (bytes > 0) this.push({ c: 'clear', id, byteOffset, bytes });
  }

  copy(src: number, srcOffset: number, dst: number, dstOffset: number, bytes: number): void {
    if (bytes > 0 && !(src === dst && srcOffset === dstOffset)) this.push({ c: 'copy', src, srcOffset, dst, dstOffset, bytes });
  }

  /** Registers a compute pipeline; the worker compiles it when the batch carrying it runs. */
  pipeline(code: string, entry: string, layout: string, label: string): number {
    const key = this.nextPipeline++;
    this.push({ c: 'pipeline', key, code, entry, layout, label });
    return key;
  }

  /** Queues one dispatch with its uniform bytes (at most UNIFORM_BINDING). */
  dispatch(pipeline: number, layout: string, buffers: number[], uniform: Uint8Array, groups: [number, number, number], op: string): void {
    this.check();
    if (uniform.length > UNIFORM_BINDING) throw new Error(`webgpu: ${op} has ${uniform.length} bytes of uniforms (max ${UNIFORM_BINDING})`);
    const at = Math.ceil(this.uniformUsed / this.uniformAlign) * this.uniformAlign;
    if (at + UNIFORM_BINDING > UNIFORM_ARENA) {
      this.flush();
      return this.dispatch(pipeline, layout, buffers, uniform, groups, op);
    }
    this.uniforms.set(uniform, at);
    this.uniformUsed = at + uniform.length;
    this.push({ c: 'dispatch', pipeline, layout, buffers, uniformOffset: at, groups, op });
  }

  private post(sync?: BatchMessage['sync']): void {
    const uniforms = this.uniforms.slice(0, this.uniformUsed).buffer;
    const msg: BatchMessage = { type: 'batch', cmds: this.cmds, uniforms, sync };
    this.worker.postMessage(msg, [uniforms, ...this.transfers]);
    this.cmds = [];
    this.transfers = [];
    this.uploadBytes = 0;
    this.uniformUsed = 0;
  }

  /** Posts the queued commands without waiting. */
  flush(): void {
    this.check();
    if (this.cmds.length > 0) this.post();
  }

  /** Runs everything queued and returns the requested ranges (bytes as float32). Throws on device errors. */
  read(ranges: readonly { id: number; byteOffset: number; bytes: number }[]): Float32Array[] {
    this.check();
    let total = 0;
    const reads: ReadRequest[] = ranges.map((r) => {
      const req = { ...r, outOffset: total };
      total += r.bytes;
      return req;
    });
    const out = total > 0 ? new SharedArrayBuffer(total) : null;
    const seq = ++this.seq;
    this.post({ seq, reads, out });
    const answer = this.wait(seq);
    if (answer.error !== null) throw new Error(answer.error);
    return reads.map((r) => (out === null ? new Float32Array(0) : new Float32Array(out.slice(r.outOffset, r.outOffset + r.bytes))));
  }

  /** Waits until the device has run everything queued (device errors surface here). */
  sync(): void {
    this.read([]);
  }

  private wait(seq: number): { error: string | null; text: string } {
    const deadline = Date.now() + SYNC_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(this.ctrl, DONE);
      if (done >= seq) break;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`webgpu: the device worker did not answer within ${SYNC_TIMEOUT_MS / 1000} s`);
      Atomics.wait(this.ctrl, DONE, done, left);
    }
    const n = Atomics.load(this.ctrl, TEXT_LENGTH);
    const text = new TextDecoder().decode(this.text.slice(0, n));
    return Atomics.load(this.ctrl, STATUS) === 0 ? { error: null, text } : { error: text, text };
  }

  /**
   * Destroys the device (idempotent). Its worker thread ends too when it is the only device worker in the
   * process; otherwise it stays, idle and unref'd, until the process exits. Measured with two backends: a
   * worker that ended while another device worker existed (alive, or itself destroyed and left idle) made the
   * process die with SIGSEGV or SIGABRT at exit, about 3 runs in 4, whichever was destroyed first and even
   * when both were ended together at the last shutdown. One backend at a time, created and destroyed in turn,
   * ends every worker cleanly.
   */
  shutdown(): void {
    if (this.closed) return;
    this.flush();
    const seq = ++this.seq;
    this.worker.postMessage({ type: 'shutdown', seq });
    this.closed = true;
    workers.delete(this.worker);
    const alone = workers.size === 0;
    if (!alone) workers.add(this.worker);
    const answer = this.wait(seq);
    if (alone) this.worker.postMessage({ type: 'close' });
    if (answer.error !== null) throw new Error(answer.error);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
