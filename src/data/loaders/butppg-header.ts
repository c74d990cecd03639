// Validation and repair of BUT-PPG record headers before they reach the WFDB parser. Some early headers
// are reported to have fields in the wrong place. We repair only what the record itself makes
// unambiguous — the signal-line count, the signal file's size, the record's file name — and report every
// repair; anything else is left for the WFDB parser to reject with a precise message.

import { isSupportedFormat, bytesForSamples } from '../wfdb/formats';

export interface HeaderRepair {
  text: string;
  repairs: string[];
}

const FORMAT_FIELD = /^(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?$/;
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const GAIN_FIELD = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(\([+-]?\d+\))?(\/\S*)?$/;

function isFormatField(s: string): boolean {
  const m = FORMAT_FIELD.exec(s);
  return m !== null && isSupportedFormat(Number(m[1]));
}

/**
 * @param text header text as read
 * @param expectedName record name implied by the file name (e.g. "100001_PPG")
 * @param datBytes size of the record's signal file in bytes (undefined when it is missing)
 */
export function repairButPpgHeader(text: string, expectedName: string, datBytes: number | undefined): HeaderRepair {
  const repairs: string[] = [];
  const lines = text.split(/\r?\n/);
  const content = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (content.length === 0) return { text, repairs };
  const recIdx = content[0].i;
  const rec = lines[recIdx].trim().split(/\s+/);
  const sigIdx = content.slice(1).map((c) => c.i);

  // Signal lines: format and gain swapped ("X.dat 200 16 …" instead of "X.dat 16 200 …").
  const formats: number[] = [];
  for (const i of sigIdx) {
    const f = lines[i].trim().split(/\s+/);
    if (f.length >= 3 && !isFormatField(f[1]) && GAIN_FIELD.test(f[1]) && isFormatField(f[2])) {
      repairs.push(`signal line ${i + 1}: format and gain were swapped ('${f[1]} ${f[2]}' → '${f[2]} ${f[1]}')`);
      [f[1], f[2]] = [f[2], f[1]];
      lines[i] = f.join(' ');
    }
    const m = FORMAT_FIELD.exec(f[1] ?? '');
    formats.push(m ? Number(m[1]) : NaN);
  }

  // Record line: name, then number of signals, sampling frequency, number of samples.
  if (rec[0] !== undefined && rec[0].split('/')[0] !== expectedName) {
    repairs.push(`record name '${rec[0]}' does not match the file name; using '${expectedName}'`);
    rec[0] = expectedName;
  }
  const nSigLines = sigIdx.length;
  if (rec.length >= 3 && Number(rec[1]) !== nSigLines && Number(rec[2]) === nSigLines && PLAIN_NUMBER.test(rec[1])) {
    repairs.push(`record line: number of signals and sampling frequency were swapped ('${rec[1]} ${rec[2]}' → '${rec[2]} ${rec[1]}')`);
    [rec[1], rec[2]] = [rec[2], rec[1]];
  }
  if (rec.length >= 4 && datBytes !== undefined && formats.every((f) => Number.isFinite(f))) {
    // Frames the signal file actually holds, if all signals share one file and one sample per frame.
    const perFrame = formats.reduce((s, f) => s + bytesForSamples(f, 1), 0);
    const frames = perFrame > 0 ? datBytes / perFrame : NaN;
    const fsVal = Number(rec[2]);
    const nVal = Number(rec[3]);
    if (Number.isInteger(frames) && nVal !== frames && fsVal === frames && PLAIN_NUMBER.test(rec[3]) && nVal > 0) {
      repairs.push(`record line: sampling frequency and number of samples were swapped ('${rec[2]} ${rec[3]}' → '${rec[3]} ${rec[2]}'; the signal file holds ${frames} samples)`);
      [rec[2], rec[3]] = [rec[3], rec[2]];
    }
  }
  lines[recIdx] = rec.join(' ');
  return { text: lines.join('\n'), repairs };
}
