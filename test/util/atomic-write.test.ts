// Atomic writes leave nothing half-written behind: not on a failed write, not when the target is a directory,
// and a temporary file left by a process that was killed mid-write is swept the next time.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { sweepStaleTemps, writeAtomically, writeFileAtomic } from '../../src/util/atomic-write';
import { writeSafetensors } from '../../src/util/safetensors';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-atomic-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('writes the file and nothing else', () => {
  const f = path.join(dir, 'a.json');
  writeFileAtomic(f, '{"x":1}');
  writeFileAtomic(f, '{"x":2}');
  expect(fs.readFileSync(f, 'utf8')).toBe('{"x":2}');
  expect(fs.readdirSync(dir)).toEqual(['a.json']);
});

test('an output that is a directory fails with one line and leaves no temporary file (was: *.tmp-PID left)', () => {
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  expect(() => writeSafetensors(out, { x: { dtype: 'F32', shape: [1], data: new Float32Array(1) } })).toThrow(/cannot write .*out: .* is a directory, not a file/);
  expect(fs.readdirSync(dir)).toEqual(['out']);
  expect(() => writeFileAtomic(path.join(dir, 'missing', 'f.json'), 'x')).toThrow(/the folder .*missing does not exist/);
});

test('a write that fails half-way removes its temporary file and keeps the old content', () => {
  const f = path.join(dir, 'b.bin');
  writeFileAtomic(f, 'old');
  expect(() => writeAtomically(f, (tmp) => {
    fs.writeFileSync(tmp, 'partial');
    throw new Error('disk full');
  })).toThrow('disk full');
  expect(fs.readFileSync(f, 'utf8')).toBe('old');
  expect(fs.readdirSync(dir)).toEqual(['b.bin']);
});

test('temporary files of dead processes are swept; those of live ones are kept', () => {
  const f = path.join(dir, 'c.safetensors');
  // A process that has exited: its pid is free (reuse within this test is vanishingly unlikely).
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim();
  fs.writeFileSync(`${f}.tmp-${dead}`, 'half');
  fs.writeFileSync(`${f}.tmp-${process.ppid}`, 'in progress elsewhere');
  fs.writeFileSync(path.join(dir, 'other.tmp-1'), 'not ours');
  sweepStaleTemps(f);
  expect(fs.readdirSync(dir).sort()).toEqual(['c.safetensors.tmp-' + process.ppid, 'other.tmp-1'].sort());
  writeFileAtomic(f, 'done');
  expect(fs.readFileSync(f, 'utf8')).toBe('done');
});

test('a writer that died but was never reaped (a zombie) counts as dead: its temporary file is swept', async () => {
  // `sleep 0` exits at once, and its parent becomes `sleep 5`, which never reaps it: a zombie, as a killed cell
  // process becomes where PID 1 does not reap (the distributed test's killed worker in a CI container).
  const { spawn } = await import('child_process');
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    const deadline = Date.now() + 5000;
    const state = (): string => { try { const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3); } catch { return '?'; } };
    while (state() !== 'Z' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(state()).toBe('Z');
    expect(() => process.kill(pid, 0)).not.toThrow(); // the kernel still lists it
    const f = path.join(dir, 'd.safetensors');
    fs.writeFileSync(`${f}.tmp-${pid}`, 'half');
    sweepStaleTemps(f);
    expect(fs.readdirSync(dir)).toEqual([]);
  } finally {
    parent.kill('SIGKILL');
  }
});
