// The cpu backend's tensors start on a 64-byte cache line (host-storage.ts): JavaScript's own large
// ArrayBuffers start 16 bytes past one, which made every vector load of a row straddle two lines. Checked
// through the addon's misalignment(), which is also checked here against a buffer whose offset is known.
import { loadAddon } from '../../src/engine/cpu/addon';
import { hostData } from '../../src/engine/host-storage';
import { getBackend } from '../../src/engine/registry';

const loaded = loadAddon();
if (!loaded.ok) throw new Error(loaded.reason);
const native = loaded.addon;

test('misalignment() reads the byte offset of an array within its cache line', () => {
  const raw = new Float32Array(64);
  const base = native.misalignment(raw);
  expect(base % 4).toBe(0);
  for (let skip = 0; skip < 20; skip++) expect(native.misalignment(raw.subarray(skip))).toBe((base + 4 * skip) % 64);
});

test('misalignment() rejects anything but a Float32Array, naming the argument', () => {
  const f = native.misalignment as unknown as (...a: unknown[]) => number;
  expect(() => f(new Float64Array(4))).toThrow(/fairtune_native.misalignment: argument 1 'a' must be a Float32Array/);
  expect(() => f([1, 2])).toThrow(/must be a Float32Array/);
  expect(() => f()).toThrow(/misalignment/);
});

test('every cpu tensor starts on a cache line, whatever its size, and is zeroed with exactly its length', () => {
  const be = getBackend('cpu');
  // Sizes around the allocator's small/large split and odd ones; many of each, as the offset can vary.
  for (const n of [1, 3, 15, 16, 17, 1000, 4097, 65536, 1 << 20, 992 * 512 + 3]) {
    for (let rep = 0; rep < 4; rep++) {
      const t = be.tensor([n]);
      const a = hostData(t);
      expect(a.length).toBe(n);
      expect(native.misalignment(a)).toBe(0);
      expect(a[0]).toBe(0);
      expect(a[n - 1]).toBe(0);
      be.dispose(t);
    }
  }
  // Initialised tensors too, and their values are the ones given.
  const init = Float32Array.from({ length: 37 }, (_, i) => i - 18.5);
  const t = be.tensor([37], init);
  expect(native.misalignment(hostData(t))).toBe(0);
  expect(Array.from(be.download(t))).toEqual(Array.from(init));
});
