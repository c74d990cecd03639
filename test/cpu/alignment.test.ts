// The cpu backend's tensors start on a 64-byte cache line (host-storage.ts): JavaScript's own large
// ArrayBuffers start 16 bytes past one, which made every vector load of a row straddle two lines. Checked
// through the addon's misalignment(), which is also checked here against a buffer whose offset is known.
// Tensors of 32 MiB or more start on a 2 MiB boundary with their huge pages advised (adviseHugePages).
import * as fs from 'fs';
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

test('adviseHugePages() finds the first whole 2 MiB page of an array, consistently for shifted views', () => {
  const raw = new Float32Array((5 << 20) / 4);
  const base = native.adviseHugePages(raw);
  // 5 MiB always holds a whole 2 MiB page, which starts within the first 2 MiB.
  expect(base).toBeGreaterThanOrEqual(0);
  expect(base).toBeLessThan((2 << 20) / 4);
  for (const shift of [1, 16, 1000]) {
    const expected = base >= shift ? base - shift : base - shift + (2 << 20) / 4;
    expect(native.adviseHugePages(raw.subarray(shift))).toBe(expected);
  }
  // An array holding no whole 2 MiB page has none to advise.
  expect(native.adviseHugePages(new Float32Array(8))).toBe(-1);
  expect(native.adviseHugePages(new Float32Array((2 << 20) / 4 - 1))).toBe(-1);
});

test('adviseHugePages() rejects anything but a Float32Array, naming the argument', () => {
  const f = native.adviseHugePages as unknown as (...a: unknown[]) => number;
  expect(() => f(new Float64Array(4))).toThrow(/fairtune_native.adviseHugePages: argument 1 'a' must be a Float32Array/);
  expect(() => f()).toThrow(/adviseHugePages/);
});

/** This process's mappings advised for huge pages (the "hg" flag of /proc/self/smaps): start address and KiB. */
function advisedMappings(smaps: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    if (/^VmFlags:.*\bhg\b/m.test(m)) out.set(m.slice(0, m.indexOf('-')), Number(/^Size:\s+(\d+) kB/m.exec(m)?.[1] ?? 0));
  }
  return out;
}

/** /proc/self/smaps where it lists each mapping's flags and the kernel has transparent huge pages, else null. */
function readSmaps(): string | null {
  if (!fs.existsSync('/sys/kernel/mm/transparent_hugepage/enabled') || !fs.existsSync('/proc/self/smaps')) return null;
  const smaps = fs.readFileSync('/proc/self/smaps', 'utf8');
  return /^VmFlags:/m.test(smaps) ? smaps : null;
}

test('cpu tensors of 32 MiB or more start on a 2 MiB boundary, advised for huge pages, zeroed, exact length', () => {
  const be = getBackend('cpu');
  const n = (40 << 20) / 4 + 3;
  const before = readSmaps();
  const t = be.tensor([n]);
  const a = hostData(t);
  expect(a.length).toBe(n);
  expect(native.adviseHugePages(a)).toBe(0);
  expect(native.misalignment(a)).toBe(0);
  expect(a[0]).toBe(0);
  expect(a[n - 1]).toBe(0);
  // The advice reached the kernel where it has transparent huge pages: a mapping advised since, covering the
  // tensor's whole 2 MiB pages (40 MiB of them). Compared by address: the garbage collector may unmap other
  // advised buffers in between.
  const after = readSmaps();
  if (before !== null && after !== null) {
    const old = advisedMappings(before);
    const fresh = [...advisedMappings(after)].filter(([start]) => !old.has(start)).map(([, kib]) => kib);
    expect(Math.max(0, ...fresh)).toBeGreaterThanOrEqual(40 << 10);
  }
  // Below 32 MiB a tensor only starts on a cache line.
  const small = be.tensor([(8 << 20) / 4]);
  expect(native.misalignment(hostData(small))).toBe(0);
  be.dispose(small);
  be.dispose(t);
});
