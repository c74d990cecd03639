// Backend selection. FAIRTUNE_BACKEND (or an explicit name) picks one; otherwise the fastest available is
// used, in the order of PREFERENCE. A backend that cannot run here says why, and selection never falls
// back silently when a backend was asked for by name.
import type { Backend } from './backend';

export const BACKEND_NAMES = ['cuda', 'cpu', 'webgpu', 'reference', 'cuda-emu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Fastest first. */
const PREFERENCE: readonly BackendName[] = ['cuda', 'cpu', 'webgpu', 'reference'];
/** Backends chosen automatically; webgpu on llvmpipe is slower than the reference on a CPU-only machine. */
const AUTO: ReadonlySet<BackendName> = new Set(['cuda', 'cpu', 'reference']);

export interface Availability {
  name: BackendName;
  available: boolean;
  reason?: string;
  /** For a backend that runs: what it runs on (ISA, threads, bf16, adapter). */
  description?: string;
}

type Factory = () => Backend;

function factory(name: BackendName): Factory {
  switch (name) {
    case 'reference':
      return () => {
        const { ReferenceBackend } = require('./reference/backend') as typeof import('./reference/backend');
        return new ReferenceBackend();
      };
    case 'cpu':
      return () => {
        const { CpuBackend } = require('./cpu/backend') as typeof import('./cpu/backend');
        return new CpuBackend();
      };
    case 'cuda':
    case 'cuda-emu':
      // cuda-emu runs the CUDA kernels emulated on the CPU: by name only (verification), never automatically.
      return () => {
        const { CudaBackend } = require('./cuda/backend') as typeof import('./cuda/backend');
        return new CudaBackend(name);
      };
    case 'webgpu':
      return () => {
        const { WebGpuBackend } = require('./webgpu/backend') as typeof import('./webgpu/backend');
        return new WebGpuBackend();
      };
  }
}

const cache = new Map<BackendName, Backend | Error>();

function tryCreate(name: BackendName): Backend | Error {
  const hit = cache.get(name);
  if (hit) return hit;
  let result: Backend | Error;
  try {
    result = factory(name)();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    result = new Error(msg.startsWith(`${name} unavailable`) ? msg : `${name} unavailable: ${msg}`);
  }
  cache.set(name, result);
  return result;
}

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}

/** Which backends can run on this machine, with the reason for each that cannot. */
export function probeBackends(): Availability[] {
  return PREFERENCE.map((name) => {
    const r = tryCreate(name);
    return r instanceof Error ? { name, available: false, reason: r.message } : { name, available: true, description: r.description };
  });
}

/**
 * The backend named (argument, else FAIRTUNE_BACKEND), or the fastest available one. Backends are created
 * once per process and shared. `onSkip` hears why faster backends were passed over.
 */
export function getBackend(name?: string, onSkip?: (reason: string) => void): Backend {
  const wanted = name ?? process.env.FAIRTUNE_BACKEND;
  if (wanted !== undefined && wanted !== '' && wanted !== 'auto') {
    if (!isBackendName(wanted)) {
      throw new Error(`unknown backend '${wanted}': choose one of ${BACKEND_NAMES.join(', ')} or auto`);
    }
    const r = tryCreate(wanted);
    if (r instanceof Error) throw r;
    return r;
  }
  for (const n of PREFERENCE) {
    if (!AUTO.has(n)) continue;
    const r = tryCreate(n);
    if (r instanceof Error) {
      onSkip?.(r.message);
      continue;
    }
    return r;
  }
  throw new Error('no backend is available');
}
