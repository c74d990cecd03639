// PPG-DaLiA loader on pickles the test writes in the structure of the real S{n}.pkl files (Python 2,
// protocol 2, numpy arrays through _reconstruct), plus the numpy reconstruction itself.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDalia } from '../../../src/data/loaders/dalia';
import { dictEntries, NumpyArray, unpickle } from '../../../src/data/loaders/numpy-pickle';
import { bvp, subjectPickle, writeDaliaSubject } from './dalia-writer';
import { NdArray, Py2Str, PyBytes, writePickle, type PyValue } from './pickle-writer';

const s = Py2Str.of;
let root: string;
const writeSubject = (id: string, buf: Buffer) => writeDaliaSubject(root, id, buf);

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'dalia-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('numpy reconstruction', () => {
  test('float64/float32/int arrays, both byte orders, Fortran order, dict keys as str/bytes/unicode', () => {
    const vals = [1.5, -2.25, 1e300, -0, 3.14159, 2 ** -40];
    const buf = writePickle(
      new Map<PyValue, PyValue>([
        [s('a'), new NdArray('f8', [2, 3], vals)],
        [new PyBytes(Buffer.from('b')), new NdArray('f4', [3], [0.5, -1.25, 7], '>')],
        ['c', new NdArray('i8', [2, 2], [1, -2, 3, -4], '<', true)],
        [s('d'), new NdArray('u1', [4], [0, 128, 200, 255])],
        [s('e'), new NdArray('i4', [3], [-1, 2147483647, -2147483648], '>')],
      ]),
    );
    const d = dictEntries(unpickle(buf))!;
    expect([...d.keys()]).toEqual(['a', 'b', 'c', 'd', 'e']);
    const a = d.get('a') as NumpyArray;
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.toFloat64())).toEqual(vals);
    expect(Array.from((d.get('b') as NumpyArray).toFloat64())).toEqual([0.5, -1.25, 7]);
    expect(Array.from((d.get('c') as NumpyArray).toFloat64())).toEqual([1, -2, 3, -4]);
    expect(Array.from((d.get('d') as NumpyArray).toFloat64())).toEqual([0, 128, 200, 255]);
    expect(Array.from((d.get('e') as NumpyArray).toFloat64())).toEqual([-1, 2147483647, -2147483648]);
  });

  test('payload length that does not match the shape is an error', () => {
    const buf = writePickle(new NdArray('f8', [4], [1, 2, 3, 4]));
    // Patch the shape 4 → 5 (BININT1 4 follows the shape MARK).
    const i = buf.indexOf(Buffer.from([0x28, 0x4b, 0x04, 0x74]));
    buf[i + 2] = 5;
    expect(() => unpickle(buf)).toThrow(/shape \[5\] of f8 needs 40 bytes, the pickle holds 32/);
  });
});

test('a Python 3 protocol-0 pickle (text opcodes, raw-unicode-escape payloads) reads like the binary ones', () => {
  // Written by CPython 3 with numpy 2: pickle.dumps({'ppg': np.array([0.5, -1.25, 3.0], dtype=np.float32),
  // 'label': np.array([60.0, 61.5]), 'noteé': b'x\\y\n', 'subject': 'S1'}, protocol=0). Its array bytes travel
  // as _codecs.encode(text, 'latin1') with \u escapes for NUL, backslash and newline; it was refused
  // ("_codecs.encode: expected text") and its escapes were not decoded.
  const buf = Buffer.from(
    'KGRwMApWcHBnCnAxCmNudW1weS5fY29yZS5tdWx0aWFycmF5Cl9yZWNvbnN0cnVjdApwMgooY251bXB5Cm5kYXJyYXkKcDMKKEkwCnRwNApjX2NvZGVjcwplbmNvZGUKcDUKKFZiCnA2ClZsYXRpbjEKcDcKdHA4ClJwOQp0cDEwClJwMTEKKEkxCihJMwp0cDEyCmNudW1weQpkdHlwZQpwMTMKKFZmNApwMTQKSTAwCkkwMQp0cDE1ClJwMTYKKEkzClY8CnAxNwpOTk5JLTEKSS0xCkkwCnRwMTgKYkkwMApnNQooVlx1MDAwMFx1MDAwMFx1MDAwMD9cdTAwMDBcdTAwMDCgv1x1MDAwMFx1MDAwMEBACnAxOQpnNwp0cDIwClJwMjEKdHAyMgpic1ZsYWJlbApwMjMKZzIKKGczCihJMAp0cDI0Cmc5CnRwMjUKUnAyNgooSTEKKEkyCnRwMjcKZzEzCihWZjgKcDI4CkkwMApJMDEKdHAyOQpScDMwCihJMwpnMTcKTk5OSS0xCkktMQpJMAp0cDMxCmJJMDAKZzUKKFZcdTAwMDBcdTAwMDBcdTAwMDBcdTAwMDBcdTAwMDBcdTAwMDBOQFx1MDAwMFx1MDAwMFx1MDAwMFx1MDAwMFx1MDAwMMBOQApwMzIKZzcKdHAzMwpScDM0CnRwMzUKYnNWbm90ZekKcDM2Cmc1CihWeFx1MDA1Y3lcdTAwMGEKcDM3Cmc3CnRwMzgKUnAzOQpzVnN1YmplY3QKcDQwClZTMQpwNDEKcy4=',
    'base64',
  );
  const d = dictEntries(unpickle(buf))!;
  expect([...d.keys()].sort()).toEqual(['label', 'note\u00e9', 'ppg', 'subject']);
  expect(Array.from((d.get('ppg') as NumpyArray).toFloat64())).toEqual([0.5, -1.25, 3]);
  expect(Array.from((d.get('label') as NumpyArray).toFloat64())).toEqual([60, 61.5]);
  expect(Buffer.from((d.get('note\u00e9') as { bytes: Uint8Array }).bytes).toString('latin1')).toBe('x\\y\n');
  expect(d.get('subject')).toBe('S1');
});

describe('loadDalia', () => {
  test('loads BVP, HR track, attributes; str and bytes keys; reports missing subjects', async () => {
    writeSubject('S1', subjectPickle('S1', ' m', 34, 40));
    writeSubject('S2', subjectPickle('S2', ' f', 27, 30, { bytesKeys: true }));
    const d = await loadDalia(root);
    expect(d.dataset).toBe('dalia');
    expect(d.root).toBe(path.join(root, 'PPG_FieldStudy'));
    expect(d.subjects).toEqual([
      { id: 'S1', attributes: { gender: 'M', age: 34, skin: 3, height: 181, weight: 78.5, sport: 6 } },
      { id: 'S2', attributes: { gender: 'F', age: 27, skin: 3, height: 181, weight: 78.5, sport: 6 } },
    ]);
    const r = d.recordings[0];
    expect(r.fs).toBe(64);
    expect(r.signal.length).toBe(40 * 64);
    const want = bvp(40 * 64, 1);
    for (const i of [0, 1, 777, 2559]) expect(r.signal[i]).toBeCloseTo(want[i], 3);
    expect(r.hrTrack!.t.length).toBe(17);
    expect(Array.from(r.hrTrack!.t.subarray(0, 3))).toEqual([4, 6, 8]);
    expect(Array.from(r.hrTrack!.hr.subarray(0, 3))).toEqual([60, 60.5, 61]);
    expect(d.recordings[1].signal.length).toBe(30 * 64);
    expect(d.report).toEqual(['subject folders missing: S3, S4, S5, S6, S7, S8, S9, S10, S11, S12, S13, S14, S15']);
  });

  test('malformed and missing pickles are skipped with the reason; a bad folder is an error', async () => {
    writeSubject('S1', subjectPickle('S1', ' m', 34, 20));
    writeSubject('S2', subjectPickle('S2', ' x', 27, 20));
    writeSubject('S3', subjectPickle('S3', ' m', 27, 20).subarray(0, 500));
    fs.mkdirSync(path.join(root, 'PPG_FieldStudy', 'S4'));
    const noBvp = writePickle(new Map<PyValue, PyValue>([[s('signal'), new Map<PyValue, PyValue>([[s('wrist'), new Map()]])], [s('label'), new NdArray('f8', [1], [70])]]));
    writeSubject('S5', noBvp);
    const d = await loadDalia(path.join(root, 'PPG_FieldStudy'));
    expect(d.subjects.map((x) => x.id)).toEqual(['S1', 'S2']);
    expect(d.subjects[1].attributes.gender).toBeUndefined();
    const rep = d.report.join('\n');
    expect(rep).toMatch(/S2: questionnaire Gender ' x' is not ' m' or ' f'/);
    expect(rep).toMatch(/S3: malformed S3\.pkl: .*(end of file|more bytes)/i);
    expect(rep).toMatch(/S4: missing .*S4\.pkl, skipped/);
    expect(rep).toMatch(/S5: malformed S5\.pkl: 'signal' → 'wrist' has no 'BVP'/);
    await expect(loadDalia(path.join(root, 'nowhere'))).rejects.toThrow(/PPG-DaLiA folder not found/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'dalia-empty-'));
    await expect(loadDalia(empty)).rejects.toThrow(/no subject folders S1\.\.S15/);
    fs.rmSync(empty, { recursive: true });
  });
});
