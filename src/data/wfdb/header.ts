// WFDB header (.hea) parsing: the record line, signal specification lines (single-segment records and
// layout headers), segment lines (multi-segment master headers) and comments. Field syntax follows the
// WFDB "header(5)" manual page. Every error names the file and line so a bad download is easy to find.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { WfdbError } from './errors';
import { isSupportedFormat, defaultAdcResolution } from './formats';
import { parseBaseDate, parseBaseTime } from './time';

/** WFDB's default gain (ADC units per physical unit) for signals whose header gives 0 (uncalibrated). */
export const DEFAULT_GAIN = 200;
/** WFDB's default sampling frequency when the record line gives none. */
export const DEFAULT_FS = 250;

export interface RecordLine {
  name: string;
  /** Present for multi-segment records. */
  nSegments?: number;
  nSignals: number;
  /** Frame rate in Hz. */
  fs: number;
  counterFreq?: number;
  baseCounter?: number;
  /** Samples (frames) per signal; undefined when the header omits it. */
  nSamples?: number;
  baseTime?: string;
  baseDate?: string;
  /** Base time in seconds after midnight, when given. */
  baseTimeSeconds?: number;
  /** Base date in days since 1970-01-01, when given. */
  baseDateDays?: number;
}

export interface SignalSpec {
  /** Signal file name relative to the header's folder; "~" in layout headers (no file). */
  fileName: string;
  format: number;
  samplesPerFrame: number;
  skew: number;
  /** Bytes to skip at the start of the signal file (e.g. the MATLAB header of a WFDB-MAT file). */
  byteOffset: number;
  /** Gain as written (0 = uncalibrated). */
  adcGain: number;
  /** Gain used for physical values (adcGain, or DEFAULT_GAIN when the header gives 0). */
  gain: number;
  baseline: number;
  units: string;
  adcResolution: number;
  adcZero: number;
  initialValue: number;
  checksum?: number;
  blockSize: number;
  description: string;
}

export interface SegmentSpec {
  /** Segment record name, or "~" for a null segment (a gap). */
  name: string;
  nSamples: number;
}

interface HeaderBase {
  /** Absolute path of the .hea file. */
  path: string;
  record: RecordLine;
  /** Comment lines without the leading '#', in order. */
  comments: string[];
}

export interface SingleSegmentHeader extends HeaderBase {
  kind: 'single';
  signals: SignalSpec[];
}

export interface MultiSegmentHeader extends HeaderBase {
  kind: 'multi';
  segments: SegmentSpec[];
  /** Variable layout when the first segment is a zero-length layout header. */
  layout: 'fixed' | 'variable';
}

export type Header = SingleSegmentHeader | MultiSegmentHeader;

const INT = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function fail(where: string, message: string): never {
  throw new WfdbError(`${where}: ${message}`);
}

/** The fastest rate a header may declare: no physiological recorder samples faster, and beyond it a rate is a typo. */
export const MAX_FS = 1e6;

function parseInteger(text: string, where: string, field: string): number {
  if (!INT.test(text)) fail(where, `${field} must be an integer, got '${text}'`);
  const v = Number(text);
  if (!Number.isSafeInteger(v)) fail(where, `${field} '${text}' is beyond 2^53 − 1, the largest exact integer`);
  return v;
}

function parseNumber(text: string, where: string, field: string): number {
  if (!NUMBER.test(text)) fail(where, `${field} must be a number, got '${text}'`);
  const v = Number(text);
  // '1e400' is Infinity and '1e-400' is 0 in a double: neither is what the header says.
  if (!Number.isFinite(v)) fail(where, `${field} '${text}' overflows a double`);
  if (v === 0 && /[1-9]/.test(text.replace(/[eE].*$/, ''))) fail(where, `${field} '${text}' underflows to 0 in a double`);
  return v;
}

function parseRecordLine(line: string, where: string): RecordLine {
  const f = line.trim().split(/\s+/);
  if (f.length < 2) fail(where, `record line needs at least a name and a signal count, got '${line.trim()}'`);
  const nameField = f[0];
  const slash = nameField.indexOf('/');
  const name = slash >= 0 ? nameField.slice(0, slash) : nameField;
  if (name === '' || !/^[\w.-]+$/.test(name)) fail(where, `malformed record name '${nameField}'`);
  const rec: RecordLine = { name, nSignals: parseInteger(f[1], where, 'number of signals'), fs: DEFAULT_FS };
  if (slash >= 0) {
    rec.nSegments = parseInteger(nameField.slice(slash + 1), where, 'number of segments');
    if (rec.nSegments < 1) fail(where, `number of segments must be at least 1, got ${rec.nSegments}`);
  }
  if (rec.nSignals < 0) fail(where, `number of signals must be non-negative, got ${rec.nSignals}`);
  if (f.length > 2) {
    const m = /^([^/()]+)(?:\/([^()]+))?(?:\(([^()]+)\))?$/.exec(f[2]);
    if (!m) fail(where, `malformed sampling frequency '${f[2]}'`);
    rec.fs = parseNumber(m[1], where, 'sampling frequency');
    if (!(rec.fs > 0)) fail(where, `sampling frequency must be positive, got '${f[2]}'`);
    if (rec.fs > MAX_FS) fail(where, `sampling frequency ${f[2]} Hz is above ${MAX_FS} Hz, more than any physiological recording uses`);
    if (m[2] !== undefined) rec.counterFreq = parseNumber(m[2], where, 'counter frequency');
    if (m[3] !== undefined) rec.baseCounter = parseNumber(m[3], where, 'base counter value');
  }
  if (f.length > 3) {
    rec.nSamples = parseInteger(f[3], where, 'number of samples');
    if (rec.nSamples < 0) fail(where, `number of samples must be non-negative, got ${rec.nSamples}`);
  }
  if (f.length > 4) {
    rec.baseTime = f[4];
    rec.baseTimeSeconds = parseBaseTime(f[4], where);
  }
  if (f.length > 5) {
    rec.baseDate = f[5];
    rec.baseDateDays = parseBaseDate(f[5], where);
  }
  if (f.length > 6) fail(where, `unexpected fields after the base date: '${f.slice(6).join(' ')}'`);
  return rec;
}

function parseSignalLine(line: string, where: string): SignalSpec {
  // The description is free text (may contain spaces), so split only the first eight fields.
  const fields: string[] = [];
  let rest = line.trim();
  while (fields.length < 8 && rest !== '') {
    const m = /^(\S+)\s*/.exec(rest)!;
    fields.push(m[1]);
    rest = rest.slice(m[0].length);
  }
  const description = rest.trim();
  if (fields.length < 2) fail(where, `signal line needs at least a file name and a format, got '${line.trim()}'`);
  const fileName = fields[0];
  const fm = /^(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?$/.exec(fields[1]);
  if (!fm) fail(where, `malformed format field '${fields[1]}' (expected FMT[xSPF][:SKEW][+OFFSET])`);
  const format = Number(fm[1]);
  // Layout headers use format 0 for their "~" signals: those signals have no file of their own.
  if (!(fileName === '~' && format === 0) && !isSupportedFormat(format)) {
    fail(where, `unsupported signal format ${format} (supported: 8, 16, 24, 32, 61, 80, 160, 212, 310, 311)`);
  }
  const samplesPerFrame = fm[2] !== undefined ? Number(fm[2]) : 1;
  if (samplesPerFrame < 1) fail(where, `samples per frame must be at least 1, got ${samplesPerFrame}`);
  const skew = fm[3] !== undefined ? Number(fm[3]) : 0;
  const byteOffset = fm[4] !== undefined ? Number(fm[4]) : 0;

  let adcGain = 0;
  let baselineText: string | undefined;
  let units = 'mV';
  if (fields.length > 2) {
    const gm = /^([^()/]+)(?:\(([^()]+)\))?(?:\/(.*))?$/.exec(fields[2]);
    if (!gm) fail(where, `malformed gain field '${fields[2]}' (expected GAIN[(BASELINE)][/UNITS])`);
    adcGain = parseNumber(gm[1], where, 'ADC gain');
    if (adcGain < 0) fail(where, `ADC gain must be non-negative, got ${adcGain}`);
    baselineText = gm[2];
    if (gm[3] !== undefined) units = gm[3];
  }
  const adcResolution = fields.length > 3 ? parseInteger(fields[3], where, 'ADC resolution') : defaultAdcResolution(format);
  const adcZero = fields.length > 4 ? parseInteger(fields[4], where, 'ADC zero') : 0;
  const initialValue = fields.length > 5 ? parseInteger(fields[5], where, 'initial value') : adcZero;
  const checksum = fields.length > 6 ? parseInteger(fields[6], where, 'checksum') : undefined;
  const blockSize = fields.length > 7 ? parseInteger(fields[7], where, 'block size') : 0;
  const baseline = baselineText !== undefined ? parseInteger(baselineText, where, 'baseline') : adcZero;
  return {
    fileName,
    format,
    samplesPerFrame,
    skew,
    byteOffset,
    adcGain,
    gain: adcGain === 0 ? DEFAULT_GAIN : adcGain,
    baseline,
    units,
    adcResolution: adcResolution === 0 ? defaultAdcResolution(format) : adcResolution,
    adcZero,
    initialValue,
    checksum,
    blockSize,
    description,
  };
}

function parseSegmentLine(line: string, where: string): SegmentSpec {
  const f = line.trim().split(/\s+/);
  if (f.length !== 2) fail(where, `segment line must be 'NAME NSAMPLES', got '${line.trim()}'`);
  if (f[0] !== '~' && !/^[\w.-]+$/.test(f[0])) fail(where, `malformed segment name '${f[0]}'`);
  const nSamples = parseInteger(f[1], where, 'segment length');
  if (nSamples < 0) fail(where, `segment length must be non-negative, got ${nSamples}`);
  return { name: f[0], nSamples };
}

/** Parses header text; `filePath` is used for messages and to resolve signal and segment files. */
export function parseHeader(text: string, filePath: string): Header {
  const display = path.basename(filePath);
  const lines = text.split(/\r?\n/);
  const comments: string[] = [];
  let record: RecordLine | undefined;
  const signals: SignalSpec[] = [];
  const segments: SegmentSpec[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const where = `${display} line ${i + 1}`;
    const trimmed = raw.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      comments.push(trimmed.slice(1).trim());
      continue;
    }
    // Only whole lines are comments: a '#' later on may belong to a signal description.
    const content = trimmed;
    if (!record) {
      record = parseRecordLine(content, where);
    } else if (record.nSegments !== undefined) {
      if (segments.length >= record.nSegments) fail(where, `more segment lines than the ${record.nSegments} the record line declares`);
      segments.push(parseSegmentLine(content, where));
    } else {
      if (signals.length >= record.nSignals) fail(where, `more signal lines than the ${record.nSignals} the record line declares`);
      signals.push(parseSignalLine(content, where));
    }
  }
  if (!record) fail(display, 'header has no record line');
  const abs = path.resolve(filePath);
  if (record.nSegments !== undefined) {
    if (segments.length !== record.nSegments) {
      fail(display, `record line declares ${record.nSegments} segments but ${segments.length} segment lines follow`);
    }
    const variable = segments[0].nSamples === 0 && segments[0].name !== '~';
    // A variable-layout record's first segment is the zero-length layout header; it holds no samples.
    const total = segments.reduce((s, g) => s + g.nSamples, 0);
    if (!Number.isSafeInteger(total)) fail(display, `the segments add up to more than 2^53 − 1 samples`);
    if (record.nSamples !== undefined && record.nSamples !== 0 && record.nSamples !== total) {
      fail(display, `record line declares ${record.nSamples} samples but the segments add up to ${total}`);
    }
    if (record.nSamples === undefined || record.nSamples === 0) record.nSamples = total;
    return { kind: 'multi', path: abs, record, comments, segments, layout: variable ? 'variable' : 'fixed' };
  }
  if (signals.length !== record.nSignals) {
    fail(display, `record line declares ${record.nSignals} signals but ${signals.length} signal lines follow`);
  }
  return { kind: 'single', path: abs, record, comments, signals };
}

/** Resolves "dir/rec" or "dir/rec.hea" to the header file path. */
export function headerPathOf(recordPath: string): string {
  return recordPath.endsWith('.hea') ? recordPath : `${recordPath}.hea`;
}

/** Reads and parses a header file; a missing file gives an error naming it. */
export function readHeaderFile(recordPath: string): Header {
  const file = headerPathOf(recordPath);
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WfdbError(code === 'ENOENT' ? `header file not found: ${file}` : `cannot read header file ${file}: ${(e as Error).message}`);
  }
  return parseHeader(text, file);
}
