// Which WebGPU adapter the backend takes: the platform's GPU backend first (Vulkan on Linux, Metal on macOS,
// D3D12 then Vulkan on Windows), then GLES, which is Mesa's llvmpipe on a machine without a GPU; the first
// hardware adapter wins, and without one the GLES adapter is kept. FAIRTUNE_WEBGPU_BACKEND forces one.
import { WebGpuBackend } from '../../src/engine/webgpu/backend';
import { defaultCandidates } from '../../src/engine/webgpu/device-client';

test('candidates by platform, and the override', () => {
  expect(defaultCandidates('linux', {})).toEqual([['backend=vulkan'], ['backend=opengles']]);
  expect(defaultCandidates('darwin', {})).toEqual([['backend=metal']]);
  expect(defaultCandidates('win32', {})).toEqual([['backend=d3d12'], ['backend=vulkan'], ['backend=opengles']]);
  expect(defaultCandidates('linux', { FAIRTUNE_WEBGPU_BACKEND: 'opengles' })).toEqual([['backend=opengles']]);
  expect(() => defaultCandidates('linux', { FAIRTUNE_WEBGPU_BACKEND: 'cuda' })).toThrow(
    "FAIRTUNE_WEBGPU_BACKEND must be one of vulkan, metal, d3d12, opengles, null, got 'cuda'");
});

test('on this machine (no GPU): Vulkan is tried first, and the software GLES adapter is taken and said to be one', () => {
  const g = new WebGpuBackend();
  try {
    // The description names the backend taken and, when it fell back, what each candidate gave.
    expect(g.description).toMatch(/^WGSL kernels on Dawn \(backend=opengles\): .*llvmpipe.* \(a CPU rasteriser, not a GPU\)/);
    expect(g.description).toMatch(/\(tried backend=vulkan: (no adapter|.*\(software\)); backend=opengles: .*\(software\)\)$/);
    // It computes.
    const x = g.tensor([1, 2], [1, 2]), w = g.tensor([1, 2], [3, 4]), y = g.tensor([1, 1]);
    g.linear(x, w, null, y);
    expect(Array.from(g.download(y))).toEqual([11]);
  } finally {
    g.destroy();
  }
});
