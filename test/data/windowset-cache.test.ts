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

describe('a window set file that was changed or damaged is refused, naming what', () => {
  const ws = synthWindowSet('mimic-like', { seed: 4, subjects: 3, seconds: 30 });

  test('200 random byte flips: every one is refused with a one-line error (safetensors has no checksum; the files carry one)', () => {
    const file = path.join(dir, 'mut.safetensors');
    saveWindowSet(file, ws, { createdAt: '2025-01-01T00:00:00.000Z' });
    const good = fs.readFileSync(file);
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const messages = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const bad = Buffer.from(good);
      const at = next() % bad.length;
      bad[at] ^= 1 + (next() % 255);
      const f = path.join(dir, `mut-${k}.safetensors`);
      fs.writeFileSync(f, bad);
      let err: Error | null = null;
      try {
        loadWindowSet(f);
      } catch (e) {
        err = e as Error;
      }
      expect(err).not.toBeNull();
      expect(err!.message.split('\n')).toHaveLength(1);
      messages.add(err!.message.replace(/mut-\d+/, 'mut').replace(/^.*?(tensor "\w+"|metadata|header).*$/, '$1'));
      fs.rmSync(f);
    }
    // Flips in the data are named by tensor.
    expect([...messages].some((m) => m.includes('tensor "windows"'))).toBe(true);
  });

  test('garbled metadata is named field by field', () => {
    const file = path.join(dir, 'meta.safetensors');
    const write = (meta: Record<string, string>) => writeSafetensors(file, {
      windows: { dtype: 'F32', shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) },
      hr: { dtype: 'F32', shape: [1], data: new Float32Array([60]) },
      subject_index: { dtype: 'I32', shape: [1], data: new Int32Array([0]) },
    }, { format: 'fairtune.windowset/1', domain: 'd', fs: '40', length: '4', subjects: '[{"id":"s","attributes":{}}]', manifest: '{}', ...meta });
    write({});
    expect(loadWindowSet(file).fs).toBe(40);
    write({ fs: 'forty' });
    expect(() => loadWindowSet(file)).toThrow(/metadata "fs" a positive number/);
    write({ domain: '../x' });
    expect(() => loadWindowSet(file)).toThrow(/metadata "domain" a name of letters/);
    write({ subjects: '[{"attributes":{}}]' });
    expect(() => loadWindowSet(file)).toThrow(/metadata "subjects" \[0.id\]/);
    write({ manifest: '[1]' });
    expect(() => loadWindowSet(file)).toThrow(/metadata "manifest" is not an object/);
  });
});
