// Dawn, the WebGPU implementation, prints adapter warnings ("maxDynamicUniformBuffersPerPipelineLayout
// artificially reduced …") straight to stderr from native code, with no logging hook. Starting a device
// therefore points stderr at a debug log for that window (the main thread is blocked waiting for the device
// meanwhile, so nothing of ours is caught): FAIRTUNE_WEBGPU_LOG names the file (default: fairtune-webgpu.log
// in the temp folder), '-' keeps Dawn's messages on the terminal. Uses the cpu addon's descriptor calls; without
// that addon the messages simply stay on the terminal.
import * as os from 'os';
import * as path from 'path';
import { loadAddon } from '../cpu/addon';

export function dawnLogFile(env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env.FAIRTUNE_WEBGPU_LOG;
  if (v === '-') return null;
  return v !== undefined && v !== '' ? path.resolve(v) : path.join(os.tmpdir(), 'fairtune-webgpu.log');
}

/** Runs `fn` with stderr going to the Dawn log (restored afterwards, whatever happens). */
export function withDawnLog<T>(fn: () => T): T {
  const file = dawnLogFile();
  const load = file === null ? null : loadAddon();
  if (file === null || load === null || !load.ok) return fn();
  let saved: number;
  try {
    saved = load.addon.stderrTo(file);
  } catch {
    return fn(); // an unwritable log folder must not stop WebGPU: the messages then stay on the terminal
  }
  try {
    return fn();
  } finally {
    load.addon.stderrRestore(saved);
  }
}
