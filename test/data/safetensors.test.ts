import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../src/util/safetensors';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-st-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sample(): Parameters<typeof writeSafetensors>[1] {
  return {
    'w.weight': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5, 6e-8]) },
    idx: { dtype: 'I32', shape: [3], data: Int32Array.from([7, -8, 2147483647]) },
    d: { dtype: 'F64', shape: [1], data: Float64Array.from([Math.PI]) },
    b: { dtype: 'U8', shape: [2], data: Uint8Array.from([0, 255]) },
    big: { dtype: 'I64', shape: [1], data: BigInt64Array.from([-5n]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
}

describe('safetensors', () => {
  test('round trip of tensors and metadata, with a valid layout', () => {
    const file = path.join(dir, 'a.safetensors');
    writeSafetensors(file, sample(), { note: 'hello', json: JSON.stringify({ a: [1, 2] }) });
    const r = readSafetensors(file);
    expect(r.metadata).toEqual({ note: 'hello', json: '{"a":[1,2]}' });
    for (const [k, t] of Object.entries(sample())) {
      expect(r.tensors[k].dtype).toBe(t.dtype);
      expect(r.tensors[k].shape).toEqual(t.shape);
      expect(Array.from(r.tensors[k].data as ArrayLike<unknown>)).toEqual(Array.from(t.data as ArrayLike<unknown>));
    }
    // Format details other readers rely on: u64 LE header length, header padded to 8, 8-byte-first layout.
    const bytes = fs.readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(header['w.weight']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: expect.any(Array) });
    expect([header.big.data_offsets[0], header.d.data_offsets[0]]).toEqual([0, 8]); // 8-byte dtypes first, then by name
    expect(bytes.length).toBe(8 + n + 24 + 12 + 8 + 2 + 8);
    expect(bytes.readFloatLE(8 + n + header['w.weight'].data_offsets[0] + 8)).toBe(3.5);
    // Only the header, and a subset of tensors.
    expect(Object.keys(readSafetensorsHeader(file).entries).sort()).toEqual(Object.keys(sample()).sort());
    expect(Object.keys(readSafetensors(file, ['idx']).tensors)).toEqual(['idx']);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('truncated and corrupt files get clear errors', () => {
    const file = path.join(dir, 'b.safetensors');
    writeSafetensors(file, sample());
    const bytes = fs.readFileSync(file);
    const cut = path.join(dir, 'cut.safetensors');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
    expect(() => readSafetensors(cut)).toThrow(/file truncated/);
    fs.writeFileSync(cut, bytes.subarray(0, 20));
    expect(() => readSafetensors(cut)).toThrow(/header says \d+ bytes but only 12 follow \(file truncated\)/);
    fs.writeFileSync(cut, bytes.subarray(0, 5));
    expect(() => readSafetensors(cut)).toThrow(/too short/);
    fs.writeFileSync(cut, Buffer.concat([bytes, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])]));
    expect(() => readSafetensors(cut)).toThrow(/not described by the header/);
    const bad = Buffer.from(bytes);
    bad.write('#', 9);
    fs.writeFileSync(cut, bad);
    expect(() => readSafetensors(cut)).toThrow(/not valid JSON/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(1n << 40n);
    fs.writeFileSync(cut, huge);
    expect(() => readSafetensors(cut)).toThrow(/exceeds/);
    expect(() => readSafetensors(file, ['nope'])).toThrow(/no tensor "nope"/);
  });

  test('writer validation', () => {
    const file = path.join(dir, 'c.safetensors');
    expect(() => writeSafetensors(file, { x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/has 3 elements but data has 2/);
    expect(() => writeSafetensors(file, { x: { dtype: 'F64', shape: [2], data: new Float32Array(2) } })).toThrow(/needs a Float64Array/);
    expect(() => writeSafetensors(file, { x: { dtype: 'Q4' as never, shape: [2], data: new Float32Array(2) } })).toThrow(/unknown dtype/);
    expect(() => writeSafetensors(file, {}, { a: 1 as unknown as string })).toThrow(/must be a string/);
    expect(fs.existsSync(file)).toBe(false);
  });
});
