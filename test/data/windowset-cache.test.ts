import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSafetensors } from '../../src/util/safetensors';
import { loadWindowSet, saveWindowSet, windowSetCachePath } from '../../src/data/cache/windowset-file';
import { synthWindowSet } from '../../src/data/synth/synth-windows';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-ws-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('window set cache files', () => {
  const ws = synthWindowSet('mimic-like', { seed: 2, subjects: 3, seconds: 40 });

  test('round trip keeps windows, labels, subjects and manifest', () => {
    const file = windowSetCachePath(dir, 'mimic-like', 'all');
    expect(file).toBe(path.join(dir, 'mimic-like.all.safetensors'));
    saveWindowSet(file, ws, { createdAt: '2025-01-01T00:00:00.000Z' });
    const back = loadWindowSet(file);
    expect(back.domain).toBe('mimic-like');
    expect(back.length).toBe(400);
    expect(Array.from(back.windows)).toEqual(Array.from(ws.windows));
    expect(Array.from(back.hr)).toEqual(Array.from(ws.hr));
    expect(Array.from(back.subjectIndex)).toEqual(Array.from(ws.subjectIndex));
    expect(back.subjects).toEqual(ws.subjects);
    expect(back.manifest).toMatchObject({ source: 'synthetic:mimic-like', seed: 2, createdAt: '2025-01-01T00:00:00.000Z' });
    expect((back.manifest.counts as { perGroup: Record<string, unknown> }).perGroup.gender).toBeDefined();
  });

  test('same seed and creation time → byte-identical files', () => {
    const a = path.join(dir, 'a.safetensors'), b = path.join(dir, 'b.safetensors');
    saveWindowSet(a, ws, { createdAt: 'x' });
    saveWindowSet(b, synthWindowSet('mimic-like', { seed: 2, subjects: 3, seconds: 40 }), { createdAt: 'x' });
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
  });

  test('files that are not window sets, and inconsistent window sets, are refused', () => {
    const other = path.join(dir, 'other.safetensors');
    writeSafetensors(other, { x: { dtype: 'F32', shape: [1], data: new Float32Array(1) } });
    expect(() => loadWindowSet(other)).toThrow(/not a fairtune window set/);
    expect(() => saveWindowSet(path.join(dir, 'bad.safetensors'), { ...ws, hr: ws.hr.subarray(1) })).toThrow(/windows has \d+ samples, expected/);
    expect(() => windowSetCachePath(dir, '../x', 'all')).toThrow(/not a safe file name part/);
    const file = path.join(dir, 'cut.safetensors');
    saveWindowSet(file, ws);
    fs.truncateSync(file, fs.statSync(file).size - 100);
    expect(() => loadWindowSet(file)).toThrow(/truncated/);
  });
});
