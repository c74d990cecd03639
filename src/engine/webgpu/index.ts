// The webgpu backend (WGSL on Dawn; the device runs in a worker thread behind a synchronous facade).
export { WebGpuBackend } from './backend';
export type { WebGpuOptions } from './backend';
export type { DeviceOptions } from './device-client';
