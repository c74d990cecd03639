// Fuzzing every reader of outside input: WFDB headers and signal files, pickles, safetensors window sets and
// checkpoints, and experiment configs, each mutated a few hundred ways (fast-check: byte flips, truncations,
// insertions, for configs random values at random keys). For every input the reader must either give a valid
// result or throw an Error whose message is one line (what a user sees), never another kind of exception,
// never take more than a second, and never change the input file.
import fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadWindowSet, saveWindowSet } from '../../src/data/cache/windowset-file';
import { unpickle } from '../../src/data/loaders/numpy-pickle';
import { synthWindowSet } from '../../src/data/synth/synth-windows';
import { parseHeader, readRecord } from '../../src/data/wfdb';
import { getBackend } from '../../src/engine/registry';
import { parseExperimentConfig } from '../../src/experiment/config';
import { experimentPreset } from '../../src/experiment/presets';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint';
import { modelConfig } from '../../src/model/config';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { NdArray, writePickle, type PyValue } from '../data/loaders/pickle-writer';
import { requireFixtures, WFDB_RECORDS } from '../data/wfdb/fixtures';

const RUNS = 200;
let dir: string;
beforeAll(() => {
  requireFixtures();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-fuzz-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A mutation of a byte string: flips, a truncation, an insertion or a duplicated range. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(b: Buffer, m: Mutation): Buffer {
  const at = b.length === 0 ? 0 : m.at % b.length;
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(b);
      for (let k = 0; k < m.count && at + k < out.length; k++) out[at + k] ^= m.xor;
      return out;
    }
    case 'truncate': return b.subarray(0, at);
    case 'insert': return Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    case 'repeat': return Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
  }
}

/** Runs `read`: a result or a one-line Error within a second; anything else fails the property. */
function cleanly(read: () => unknown): boolean {
  const t0 = Date.now();
  try {
    read();
  } catch (e) {
    if (!(e instanceof Error)) throw new Error(`threw a non-Error: ${String(e)}`);
    if (e.message.includes('\n')) throw new Error(`a multi-line message: ${e.message}`);
    if (/^(TypeError|RangeError|ReferenceError)/.test(e.name) || e instanceof TypeError || e instanceof RangeError) {
      throw new Error(`an internal ${e.name}: ${e.message}`);
    }
  }
  const ms = Date.now() - t0;
  if (ms > 1000) throw new Error(`took ${ms} ms`);
  return true;
}

/** Writes `bytes` to a file, runs read on it, and checks the file is unchanged afterwards. */
function onFile(name: string, bytes: Buffer, read: (file: string) => unknown): boolean {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  const ok = cleanly(() => read(file));
  if (!fs.readFileSync(file).equals(bytes)) throw new Error(`${name} was changed by reading it`);
  return ok;
}

test('WFDB headers: parse or a one-line error naming the file', () => {
  const headers = ['100_3chan.hea', 'test01_00s.hea', 'multi-segment/fixed1/v102s.hea', 'a103l.hea']
    .map((f) => fs.readFileSync(path.join(WFDB_RECORDS, f)));
  fc.assert(fc.property(fc.nat(headers.length - 1), mutation, (i, m) =>
    cleanly(() => parseHeader(mutate(headers[i], m).toString('latin1'), '/x/rec.hea'))), { numRuns: RUNS, seed: 1 });
});

test('WFDB records: a damaged header or signal file reads or fails in one line, and is left as it was', () => {
  const hea = fs.readFileSync(path.join(WFDB_RECORDS, '100_3chan.hea'));
  const dat = fs.readFileSync(path.join(WFDB_RECORDS, '100_3chan.dat'));
  fc.assert(fc.property(fc.boolean(), mutation, (headerSide, m) => {
    const h = headerSide ? mutate(hea, m) : hea, d = headerSide ? dat : mutate(dat, m);
    fs.writeFileSync(path.join(dir, '100_3chan.dat'), d);
    return onFile('100_3chan.hea', h, (f) => readRecord(f.replace(/\.hea$/, ''), { sampTo: 500 }));
  }), { numRuns: RUNS, seed: 2 });
});

test('pickles (binary protocol 2 as the loaders see it): unpickle or a one-line error', () => {
  const pkl = writePickle(new Map<PyValue, PyValue>([
    ['signal', new Map<PyValue, PyValue>([['BVP', new NdArray('f8', [6, 1], [1, 2, 3, 4, 5, 6])]])],
    ['label', new NdArray('f4', [3], [60, 61, 62])],
  ]));
  fc.assert(fc.property(mutation, (m) => cleanly(() => unpickle(mutate(pkl, m)))), { numRuns: RUNS, seed: 3 });
});

test('window sets and checkpoints: every damage refused in one line, the file untouched', () => {
  const ws = path.join(dir, 'ws.safetensors');
  saveWindowSet(ws, synthWindowSet('butppg-like', { seed: 1, subjects: 2, seconds: 20 }), { createdAt: '2025-01-01T00:00:00.000Z' });
  const be = getBackend('cpu'), c = modelConfig('tiny', { hrPatches: 2 });
  const model = new PpgGpt(be, c, { next: false, hr: true });
  model.store.initialise(c, 1);
  const ck = path.join(dir, 'ck.safetensors');
  saveCheckpoint(ck, model, { stage: 'finetune' });
  const files = [fs.readFileSync(ws), fs.readFileSync(ck)];
  const readers = [(f: string) => loadWindowSet(f), (f: string) => loadCheckpoint(be, f)];
  fc.assert(fc.property(fc.nat(1), mutation, (i, m) => {
    const bytes = mutate(files[i], m);
    // A mutation that changes nothing (a flip past the end) must still read.
    return onFile(`mut-${i}.safetensors`, bytes, readers[i]);
  }), { numRuns: RUNS, seed: 4 });
});

test('experiment configs: random values at random keys are accepted or named by the schema', () => {
  const base = JSON.parse(JSON.stringify(experimentPreset('quickstart'))) as Record<string, unknown>;
  const paths: string[][] = [];
  const walk = (o: unknown, at: string[]) => {
    if (o !== null && typeof o === 'object' && !Array.isArray(o)) for (const [k, v] of Object.entries(o)) walk(v, [...at, k]);
    else paths.push(at);
  };
  walk(base, []);
  const value = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }),
    fc.constantFrom(0, -1, 1e9, Number.NaN, Infinity, '', '..', 'tiny'));
  fc.assert(fc.property(fc.nat(paths.length - 1), value, (i, v) => {
    const cfg = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
    let o = cfg as Record<string, unknown>;
    for (const k of paths[i].slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[paths[i][paths[i].length - 1]] = v;
    const t0 = Date.now();
    try {
      parseExperimentConfig(cfg);
    } catch (e) {
      if (!(e instanceof Error) || !/is invalid:/.test(e.message)) throw e;
    }
    return Date.now() - t0 < 1000;
  }), { numRuns: RUNS, seed: 5 });
});
