// A minimal WFDB writer for tests: one format-16 signal file plus header, written from digital samples.
// It is the inverse of what the reader must do, written independently of it.

import * as fs from 'node:fs';
import * as path from 'node:path';

export interface WriteSignal {
  name: string;
  gain?: number;
  baseline?: number;
  units?: string;
  /** Digital samples (int16 range). */
  samples: ArrayLike<number>;
}

export interface WriteOptions {
  fs: number;
  /** Extra header comment lines (without '#'). */
  comments?: string[];
  /** Override the generated header text completely (to write malformed or swapped headers). */
  headerText?: (defaultText: string) => string;
}

export function writeFormat16Record(dir: string, name: string, signals: WriteSignal[], opts: WriteOptions): void {
  fs.mkdirSync(dir, { recursive: true });
  const n = signals[0]?.samples.length ?? 0;
  for (const s of signals) if (s.samples.length !== n) throw new Error('all signals need the same length');
  const buf = Buffer.alloc(n * signals.length * 2);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (const s of signals) {
      buf.writeInt16LE(Math.round(s.samples[i]), p);
      p += 2;
    }
  }
  fs.writeFileSync(path.join(dir, `${name}.dat`), buf);
  const lines = [`${name} ${signals.length} ${opts.fs} ${n}`];
  for (const s of signals) {
    const gain = s.gain ?? 200;
    const base = s.baseline ?? 0;
    const first = n > 0 ? Math.round(s.samples[0]) : 0;
    let checksum = 0;
    for (let i = 0; i < n; i++) checksum = (checksum + Math.round(s.samples[i])) | 0;
    checksum = ((checksum << 16) >> 16);
    lines.push(`${name}.dat 16 ${gain}(${base})/${s.units ?? 'mV'} 16 0 ${first} ${checksum} 0 ${s.name}`);
  }
  for (const c of opts.comments ?? []) lines.push(`# ${c}`);
  const text = lines.join('\n') + '\n';
  fs.writeFileSync(path.join(dir, `${name}.hea`), opts.headerText ? opts.headerText(text) : text);
}
