// One HR trace written to a file: the work of `fairtune trace`, shared with trace-main.ts (the GPU check's
// entry point, which must not load the CLI).
import { getBackend } from '../engine/registry';
import type { ModelSize } from '../model/config';
import { writeSafetensors } from '../util/safetensors';
import { hrTrace, traceFileTensors, traceMetadata } from './hr-trace';

export interface TraceRequest {
  size: ModelSize;
  /** Backend name; undefined: the fastest available. */
  backend?: string;
  seed: number;
  batch: number;
  patches: number;
  layers?: number;
}

/** Runs the step, writes the trace to `out`, and returns the backend used and the loss. */
export function writeTrace(r: TraceRequest, out: string): { backend: string; loss: number } {
  const backend = getBackend(r.backend);
  const trace = hrTrace(backend, { size: r.size, seed: r.seed, batch: r.batch, patches: r.patches, layers: r.layers });
  writeSafetensors(out, traceFileTensors(trace), traceMetadata(trace.config, backend.name, r.seed));
  return { backend: backend.name, loss: trace.tensors['out.loss'].data[0] };
}
