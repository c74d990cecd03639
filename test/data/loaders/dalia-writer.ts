// PPG-DaLiA subject pickles in the structure of the real S{n}.pkl files (Python 2, protocol 2, numpy arrays
// through _reconstruct), written by the tests that need a DaLiA folder (the loader's, the own-downloads path).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Float, NdArray, Py2Str, PyBytes, writePickle, type PyValue } from './pickle-writer';

const s = Py2Str.of;

export function bvp(n: number, seed: number): number[] {
  // Values with bytes ≥ 0x80 everywhere, to catch any text decoding of the payload.
  return Array.from({ length: n }, (_, i) => Math.sin(i * 0.3 + seed) * 123.456 + i * 1e-3 - 0.1 * seed);
}

export function subjectPickle(id: string, gender: string, age: number, seconds: number, opts: { bytesKeys?: boolean } = {}): Buffer {
  const k = (name: string): PyValue => (opts.bytesKeys ? new PyBytes(Buffer.from(name)) : s(name));
  const n = seconds * 64;
  const nLabels = Math.floor((seconds - 8) / 2) + 1;
  const labels = Array.from({ length: nLabels }, (_, i) => 60 + i * 0.5);
  const wrist = new Map<PyValue, PyValue>([
    [k('ACC'), new NdArray('f8', [seconds * 32, 3], Array.from({ length: seconds * 96 }, (_, i) => i / 64))],
    [k('BVP'), new NdArray('f8', [n, 1], bvp(n, Number(id.slice(1))))],
    [k('EDA'), new NdArray('f8', [seconds * 4, 1], Array.from({ length: seconds * 4 }, () => 0.5))],
  ]);
  const quest = new Map<PyValue, PyValue>([
    [k('WEIGHT'), new Float(78.5)],
    [k('Gender'), s(gender)],
    [k('AGE'), age],
    [k('HEIGHT'), new Float(181)],
    [k('SKIN'), 3],
    [k('SPORT'), 6],
  ]);
  const top = new Map<PyValue, PyValue>([
    [k('rpeaks'), new NdArray('i4', [5], [10, 80, 150, 220, 290])],
    [k('signal'), new Map<PyValue, PyValue>([[k('chest'), new Map()], [k('wrist'), wrist]])],
    [k('label'), new NdArray('f8', [nLabels], labels)],
    [k('activity'), new NdArray('f8', [seconds * 4, 1], Array.from({ length: seconds * 4 }, () => 1))],
    [k('questionnaire'), quest],
    [k('subject'), s(id)],
  ]);
  return writePickle(top);
}

/** root/PPG_FieldStudy/<id>/<id>.pkl, as the download unpacks. */
export function writeDaliaSubject(root: string, id: string, buf: Buffer): void {
  fs.mkdirSync(path.join(root, 'PPG_FieldStudy', id), { recursive: true });
  fs.writeFileSync(path.join(root, 'PPG_FieldStudy', id, `${id}.pkl`), buf);
}
