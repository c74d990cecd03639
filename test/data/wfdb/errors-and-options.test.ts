// Bad inputs (missing / truncated signal files, malformed headers, missing segments) and reader options
// (ranges, channel names, skew, byte offsets, omitted lengths) beyond the CASES.md conformance cases.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { INVALID_SAMPLE, parseHeader, readHeaderFile, readRecord, WfdbError } from '../../../src/data/wfdb';
import { record, requireFixtures, WFDB_RECORDS } from './fixtures';

beforeAll(requireFixtures);

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wfdb-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function copy(name: string, transform?: (b: Buffer) => Buffer): void {
  const b = fs.readFileSync(path.join(WFDB_RECORDS, name));
  fs.writeFileSync(path.join(tmp, path.basename(name)), transform ? transform(b) : b);
}

describe('bad inputs', () => {
  test('missing signal file: error names the file and the sample range', () => {
    copy('100_3chan.hea');
    expect(() => readRecord(path.join(tmp, '100_3chan'))).toThrow(WfdbError);
    expect(() => readRecord(path.join(tmp, '100_3chan'))).toThrow(/signal file not found: .*100_3chan\.dat .*samples 0–999 of record 100_3chan/);
  });

  test('truncated signal file: error names the file and the range; the part that exists still reads', () => {
    copy('100_3chan.hea');
    copy('100_3chan.dat', (b) => b.subarray(0, 3000));
    expect(() => readRecord(path.join(tmp, '100_3chan'))).toThrow(/100_3chan\.dat is truncated: it holds 666 frames .*samples 0–999 of record 100_3chan/);
    expect(() => readRecord(path.join(tmp, '100_3chan'), { sampFrom: 600, sampTo: 700 })).toThrow(/samples 600–700/);
    const part = readRecord(path.join(tmp, '100_3chan'), { sampTo: 600 });
    const full = readRecord(record('100_3chan'), { sampTo: 600 });
    expect(Array.from(part.signals[2].digital)).toEqual(Array.from(full.signals[2].digital));
  });

  test('malformed header line: error names the file and the line', () => {
    copy('100_3chan.dat');
    const text = fs.readFileSync(path.join(WFDB_RECORDS, '100_3chan.hea'), 'latin1').replace('200(1024)/mV 11 1024 1011', 'abc/mV 11 1024 1011');
    fs.writeFileSync(path.join(tmp, '100_3chan.hea'), text);
    expect(() => readRecord(path.join(tmp, '100_3chan'))).toThrow(/100_3chan\.hea line 3: ADC gain must be a number, got 'abc'/);
    expect(() => parseHeader('rec 2 250 10\nrec.dat 16 200 16 0 0 0 0 a\n', '/x/rec.hea')).toThrow(/rec\.hea: record line declares 2 signals but 1 signal lines follow/);
    expect(() => parseHeader('rec 1 250 10\nrec.dat 999 200 16 0 0 0 0 a\n', '/x/rec.hea')).toThrow(/rec\.hea line 2: unsupported signal format 999/);
    expect(() => parseHeader('rec 1 fast 10\n', '/x/rec.hea')).toThrow(/rec\.hea line 1: sampling frequency must be a number/);
    expect(() => parseHeader('# only a comment\n', '/x/rec.hea')).toThrow(/rec\.hea: header has no record line/);
    expect(() => readRecord(path.join(tmp, 'nothere'))).toThrow(/header file not found: .*nothere\.hea/);
  });

  test('multi-segment: a segment whose data file is absent gives a clear error; other segments read', () => {
    const rec = 'multi-segment/s00001/s00001-2896-10-10-00-31';
    // Segment 3975656_0009 starts at sample 3261+6750+125+1354+512+906259+2604+1304941+1280+512.
    const start9 = 3261 + 6750 + 125 + 1354 + 512 + 906259 + 2604 + 1304941 + 1280 + 512;
    expect(() => readRecord(record(rec), { sampFrom: start9 + 10, sampTo: start9 + 20 })).toThrow(
      new RegExp(`signal file not found: .*3975656_0009\\.dat \\(needed for samples 10–20 of record 3975656_0009\\)`),
    );
    // The gap before segment 0001 is invalid in every channel, segment 0001 is not.
    const r = readRecord(record(rec), { sampFrom: 3251, sampTo: 3271 });
    expect(Array.from(r.signals[0].physical.subarray(0, 10)).every(Number.isNaN)).toBe(true);
    expect(Array.from(r.signals[0].physical.subarray(10)).every(Number.isFinite)).toBe(true);
    expect(Array.from(r.signals[2].digital).every((v) => v === INVALID_SAMPLE)).toBe(true); // MCL1 not in 0001
  });

  test('multi-segment: a missing segment header names the segment and the range', () => {
    expect(() => readRecord(record('multi-segment/p000878/p000878-2137-10-26-16-57'), { sampFrom: 7000, sampTo: 8000 })).toThrow(
      /segment 3269321_0003 of record p000878-2137-10-26-16-57 \(needed for samples 7500–8000 of record p000878-2137-10-26-16-57\): header file not found/,
    );
  });

  test('bad ranges and channels', () => {
    expect(() => readRecord(record('100_3chan'), { sampTo: 1000 })).toThrow(/runs past the end of record 100_3chan \(999 samples\)/);
    expect(() => readRecord(record('100_3chan'), { sampFrom: 10, sampTo: 5 })).toThrow(/invalid sample range 10–5/);
    expect(() => readRecord(record('a103l'), { channels: ['SpO2'] })).toThrow(/no signal named 'SpO2' \(signals: 'II', 'V', 'PLETH'\)/);
    expect(() => readRecord(record('a103l'), { channels: [3] })).toThrow(/channel index 3 out of range/);
  });
});

describe('numbers and sizes a header may not claim', () => {
  const header = (recordLine: string, signalLine = 'rec.dat 16 200 16 0 0 0 0 a') => () => parseHeader(`${recordLine}\n${signalLine}\n`, '/x/rec.hea');

  test('rates and gains that overflow or underflow a double, or no recorder uses, name the line', () => {
    expect(header('rec 1 1e400 10')).toThrow(/rec\.hea line 1: sampling frequency '1e400' overflows a double/);
    expect(header('rec 1 1e9 10')).toThrow(/rec\.hea line 1: sampling frequency 1e9 Hz is above 1000000 Hz/);
    expect(header('rec 1 250 10', 'rec.dat 16 1e400 16 0 0 0 0 a')).toThrow(/rec\.hea line 2: ADC gain '1e400' overflows a double/);
    expect(header('rec 1 250 10', 'rec.dat 16 1e-400 16 0 0 0 0 a')).toThrow(/rec\.hea line 2: ADC gain '1e-400' underflows to 0/);
    // A gain of 0 is the standard's "uncalibrated" and still reads with the default gain.
    expect(() => header('rec 1 250 10', 'rec.dat 16 0 16 0 0 0 0 a')()).not.toThrow();
    expect(header('rec 1 250 1152921504606846976')).toThrow(/rec\.hea line 1: number of samples '1152921504606846976' is beyond 2\^53 − 1/);
  });

  test('a base time off the clock is refused; a long leading field is not', () => {
    expect(header('rec 1 250 10 99:99:99')).toThrow(/rec\.hea line 1: base time '99:99:99' has hours 99, out of range/);
    expect(header('rec 1 250 10 12:61:00')).toThrow(/base time '12:61:00' has minutes 61/);
    expect(header('rec 1 250 10 10:59:60')).toThrow(/has seconds 60/);
    expect(parseHeader('rec 1 250 10 90:30\nrec.dat 16 200 16 0 0 0 0 a\n', '/x/rec.hea').record.baseTimeSeconds).toBe(90 * 60 + 30);
  });

  test('segment lengths whose sum is not an exact integer are refused', () => {
    const big = 2 ** 53 - 1;
    expect(() => parseHeader(`rec/2 1 250\n~ ${big}\n~ ${big}\n`, '/x/rec.hea')).toThrow(/rec\.hea: the segments add up to more than 2\^53 − 1 samples/);
  });

  test('a segment claiming far more samples than its file holds fails before anything is allocated', () => {
    // v102s's segments, with the second claiming 400 million samples (its file holds a few thousand).
    const dir = path.join(WFDB_RECORDS, 'multi-segment/fixed1');
    for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(tmp, f));
    const master = fs.readFileSync(path.join(tmp, 'v102s.hea'), 'latin1').split('\n');
    const [first, second] = master.slice(1, 3).map((l) => l.trim().split(/\s+/));
    const huge = 400_000_000;
    const total = Number(first[1]) + huge + master.slice(3).filter((l) => /^\S+ \d+$/.test(l.trim())).reduce((a, l) => a + Number(l.trim().split(/\s+/)[1]), 0);
    master[0] = master[0].replace(/^(\S+ \d+ \S+) \d+/, `$1 ${total}`);
    master[2] = `${second[0]} ${huge}`;
    fs.writeFileSync(path.join(tmp, 'v102s.hea'), master.join('\n'));
    const seg = fs.readFileSync(path.join(tmp, `${second[0]}.hea`), 'latin1').split('\n');
    seg[0] = seg[0].replace(/^(\S+ \d+ \S+) \d+/, `$1 ${huge}`);
    fs.writeFileSync(path.join(tmp, `${second[0]}.hea`), seg.join('\n'));
    const t0 = Date.now();
    expect(() => readRecord(path.join(tmp, 'v102s'), { sampFrom: 0, sampTo: Number(first[1]) + huge })).toThrow(
      new RegExp(`signal file .*\\.dat of segment ${second[0]} holds \\d+ frames but ${huge} are needed`),
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test('a signal file that is a directory is named as one', () => {
    copy('100_3chan.hea');
    fs.mkdirSync(path.join(tmp, '100_3chan.dat'));
    expect(() => readRecord(path.join(tmp, '100_3chan'))).toThrow(/signal file .*100_3chan\.dat \(needed for samples 0–999 of record 100_3chan\) is a directory/);
  });
});

describe('options', () => {
  test('channels by name equal channels by index', () => {
    const a = readRecord(record('a103l'), { sampFrom: 1000, sampTo: 1100, channels: ['PLETH', 'II'] });
    const b = readRecord(record('a103l'), { sampFrom: 1000, sampTo: 1100, channels: [2, 0] });
    expect(Array.from(a.signals[0].digital)).toEqual(Array.from(b.signals[0].digital));
    expect(a.signals[0].units).toBe('NU');
    expect(a.signals[1].gain).toBe(7247);
  });

  test('any sub-range of every format equals the same slice of a full read (packing alignment, format-8 integration)', () => {
    const full = readRecord(record('binformats'));
    for (const [from, to] of [[0, 1], [1, 2], [1, 4], [2, 7], [3, 499], [100, 101], [497, 499], [498, 499], [250, 250]]) {
      const part = readRecord(record('binformats'), { sampFrom: from, sampTo: to });
      part.signals.forEach((s, k) => {
        expect({ fmt: s.format, from, to, v: Array.from(s.digital) }).toEqual({ fmt: s.format, from, to, v: Array.from(full.signals[k].digital.subarray(from, to)) });
      });
    }
  });

  test('skew shifts a signal within its file; frames past the end are invalid', () => {
    // 2 signals, format 16, signal 1 skewed by 2 frames: its sample i sits in frame i + 2.
    const frames = 12;
    const buf = Buffer.alloc(frames * 4);
    for (let f = 0; f < frames; f++) {
      buf.writeInt16LE(100 + f, 4 * f);
      buf.writeInt16LE(-(200 + f), 4 * f + 2);
    }
    fs.writeFileSync(path.join(tmp, 'sk.dat'), buf);
    fs.writeFileSync(path.join(tmp, 'sk.hea'), 'sk 2 100 12\nsk.dat 16 100 16 0 100 0 0 A\nsk.dat 16:2 100 16 0 -202 0 0 B\n');
    const r = readRecord(path.join(tmp, 'sk'), { sampFrom: 3, sampTo: 12 });
    expect(Array.from(r.signals[0].digital)).toEqual([103, 104, 105, 106, 107, 108, 109, 110, 111]);
    expect(Array.from(r.signals[1].digital)).toEqual([-205, -206, -207, -208, -209, -210, -211, INVALID_SAMPLE, INVALID_SAMPLE]);
    expect(Number.isNaN(r.signals[1].physical[8])).toBe(true);
  });

  test('byte offset, omitted sample count (taken from the file size) and uncalibrated gain', () => {
    const body = Buffer.alloc(7 + 5 * 2);
    for (let i = 0; i < 5; i++) body.writeInt16LE(10 * i - 20, 7 + 2 * i);
    fs.writeFileSync(path.join(tmp, 'off.dat'), body);
    fs.writeFileSync(path.join(tmp, 'off.hea'), 'off 1 50\noff.dat 16+7\n');
    const r = readRecord(path.join(tmp, 'off'));
    expect(r.nSamples).toBe(5);
    expect(Array.from(r.signals[0].digital)).toEqual([-20, -10, 0, 10, 20]);
    expect(r.signals[0].gain).toBe(200); // WFDB's default for an uncalibrated signal
    expect(r.signals[0].physical[4]).toBeCloseTo(0.1, 12);
  });

  test('header fields: counter frequency, base time and date, comments, multi-segment layout', () => {
    const n = readHeaderFile(record('multi-segment/s00001/s00001-2896-10-10-00-31n'));
    expect(n.record.fs).toBeCloseTo(1 / 60, 10);
    expect(n.record.counterFreq).toBe(125);
    expect(n.record.baseTimeSeconds).toBeCloseTo(31 * 60 + 25.894, 9);
    expect(n.record.baseDateDays).toBeDefined();
    expect(n.comments).toEqual(['<age>: 60 <sex>: F']);
    const m = readHeaderFile(record('multi-segment/p000878/p000878-2137-10-26-16-57'));
    expect(m.kind).toBe('multi');
    if (m.kind !== 'multi') return;
    expect(m.layout).toBe('variable');
    expect(m.segments.length).toBe(36);
    expect(m.segments[1]).toEqual({ name: '~', nSamples: 3750 });
    const f = readHeaderFile(record('multi-segment/fixed1/v102s'));
    expect(f.kind === 'multi' && f.layout).toBe('fixed');
    const h = readHeaderFile(record('100'));
    expect(h.kind === 'single' && h.signals[1].description).toBe('V5');
    expect(h.comments).toEqual(['unnecessary comment', '69 M 1085 1629 x1', 'Aldomet, Inderal']);
  });
});
