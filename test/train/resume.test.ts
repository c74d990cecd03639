// Checkpoints and resume, through the real CLI: a fine-tuning run killed mid-way (SIGKILL) and resumed
// ends with exactly the parameters of an uninterrupted run; checkpoints round-trip bit for bit.
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readSafetensors } from '../../src/util/safetensors';
import { getBackend } from '../../src/engine/registry';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint';
import { modelConfig } from '../../src/model/config';
import { PpgGpt } from '../../src/model/ppg-gpt';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/src/cli/main.js');

function params(file: string): Map<string, Buffer> {
  const f = readSafetensors(file);
  return new Map(Object.entries(f.tensors).map(([n, t]) => [n, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
}

describe('checkpoints', () => {
  it('round-trip bit-exactly, config included', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-ckpt-'));
    const be = getBackend('cpu');
    const c = modelConfig('tiny', { hrPatches: 5 });
    const m = new PpgGpt(be, c);
    m.store.initialise(c, 11);
    const f1 = path.join(dir, 'a.safetensors'), f2 = path.join(dir, 'b.safetensors');
    saveCheckpoint(f1, m);
    const back = loadCheckpoint(be, f1);
    expect(back.config).toEqual(c);
    saveCheckpoint(f2, back);
    expect(fs.readFileSync(f2).equals(fs.readFileSync(f1))).toBe(true);
    fs.writeFileSync(f2, fs.readFileSync(f1).subarray(0, 1000));
    expect(() => loadCheckpoint(be, f2)).toThrow(/b\.safetensors/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('fairtune finetune --resume', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-resume-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const data = path.join(dir, 'data.safetensors');

  beforeAll(() => {
    if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: build with npm run build:ts first`);
    execFileSync('node', [cli, 'data', 'synth', '--preset', 'butppg-like', '--subjects', '12', '--seed', '4', '--out', data], { stdio: 'pipe' });
  });

  const args = (out: string, strategy: string) => [cli, 'finetune', '--data', data, '--scratch', '--strategy', strategy,
    '--epochs', '3', '--batch', '8', '--checkpoint-every', '2', '--seed', '3', '--out', out, '--backend', 'cpu'];

  it.each(['groupdro', 'adv'])('a run killed mid-way and resumed equals an uninterrupted one (%s)', async (strategy) => {
    const full = path.join(dir, `full-${strategy}.safetensors`);
    execFileSync('node', args(full, strategy), { stdio: 'pipe' });

    const cut = path.join(dir, `cut-${strategy}.safetensors`);
    const state = `${cut}.state.safetensors`;
    const child = spawn('node', args(cut, strategy), { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (fs.existsSync(state)) {
          child.kill('SIGKILL');
          clearInterval(timer);
        }
      }, 5);
      child.on('exit', () => {
        clearInterval(timer);
        resolve();
      });
      child.on('error', reject);
    });
    expect(fs.existsSync(cut)).toBe(false);
    const loop = JSON.parse(readSafetensors(state).metadata.loop) as { step: number; epoch: number };
    expect(loop.epoch).toBeLessThan(3);
    execFileSync('node', [...args(cut, strategy), '--resume'], { stdio: 'pipe' });
    const a = params(full), b = params(cut);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [n, buf] of a) expect([n, b.get(n)!.equals(buf)]).toEqual([n, true]);
    const ma = JSON.parse(fs.readFileSync(`${full}.metrics.json`, 'utf8')), mb = JSON.parse(fs.readFileSync(`${cut}.metrics.json`, 'utf8'));
    expect(mb.history.map((h: { trainLoss: number }) => h.trainLoss)).toEqual(ma.history.map((h: { trainLoss: number }) => h.trainLoss));
  }, 180000);

  it('refuses to resume with other options, and without a state file', () => {
    const out = path.join(dir, 'full-groupdro.safetensors');
    const run = (extra: string[]) => execFileSync('node', [...args(out, 'groupdro'), ...extra], { stdio: 'pipe' });
    expect(() => run(['--resume', '--lr', '0.5'])).toThrow(/another configuration/);
    const none = path.join(dir, 'none.safetensors');
    expect(() => execFileSync('node', [...args(none, 'erm'), '--resume'], { stdio: 'pipe' })).toThrow(/no training state/);
  });
});
