// Bad input that used to pass silently, hang or destroy files: each is now refused with one line naming the
// input, before anything is written.
import { spawnSync } from 'child_process';
import { Command } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { registerDataCommand } from '../../src/cli/commands/data';
import { registerEmbedCommand } from '../../src/cli/commands/embed';
import { LARGE_GRID, registerExperimentCommand } from '../../src/cli/commands/experiment';
import { registerFinetuneCommand } from '../../src/cli/commands/finetune';
import { registerPretrainCommand } from '../../src/cli/commands/pretrain';
import { parseExperimentConfig } from '../../src/experiment/config';
import { experimentPreset } from '../../src/experiment/presets';
import { frames } from '../../src/data/signal/framing';
import { saveWindowSet } from '../../src/data/cache/windowset-file';
import { isFlatWindow, makeWindows } from '../../src/data/windows';
import { CLI, requireDist } from '../helpers/dist';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-bad-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs one command of the real CLI in this process; resolves to its error message, or '' when it succeeded. */
async function fails(register: (p: Command) => void, args: string[]): Promise<string> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  register(program);
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await program.parseAsync(['node', 'fairtune', ...args]);
    return '';
  } catch (e) {
    return (e as Error).message;
  } finally {
    log.mockRestore();
  }
}

describe('an output that is one of the inputs is refused, compared by real path', () => {
  test('embed --data W --out W', async () => {
    const w = path.join(dir, 'w.safetensors');
    fs.writeFileSync(w, 'precious');
    const msg = await fails(registerEmbedCommand, ['embed', '--model', path.join(dir, 'm.safetensors'), '--data', w, '--out', w]);
    expect(msg).toMatch(/--out .*w\.safetensors is the same file as --data .*: writing it would destroy that input/);
    expect(fs.readFileSync(w, 'utf8')).toBe('precious');
  });

  test('finetune --from P --out P, through a symlink, and pretrain --data W --out W', async () => {
    const p = path.join(dir, 'p.safetensors'), link = path.join(dir, 'link.safetensors');
    fs.writeFileSync(p, 'foundation');
    fs.symlinkSync(p, link);
    const msg = await fails(registerFinetuneCommand, ['finetune', '--data', path.join(dir, 'd.safetensors'), '--from', p, '--out', link]);
    expect(msg).toMatch(/--out .*link\.safetensors is the same file as --from .*p\.safetensors/);
    const w = path.join(dir, 'w2.safetensors');
    expect(await fails(registerPretrainCommand, ['pretrain', '--data', `${p},${w}`, '--out', w])).toMatch(/is the same file as --data\[1\]/);
    expect(fs.readFileSync(p, 'utf8')).toBe('foundation');
  });

  test('--force lets the user replace an input on purpose (the check itself is skipped)', async () => {
    const w = path.join(dir, 'w3.safetensors');
    fs.writeFileSync(w, 'x');
    // Passes the overwrite check, then fails for another reason (the model file does not exist).
    const msg = await fails(registerEmbedCommand, ['embed', '--model', path.join(dir, 'none.safetensors'), '--data', w, '--out', w, '--force']);
    expect(msg).not.toMatch(/same file/);
  });
});

describe('data commands', () => {
  const data = (p: Command) => registerDataCommand(p, () => undefined);

  test('a hop below one sample is refused at once instead of looping for minutes', () => {
    const t0 = Date.now();
    expect(() => frames(40 * 3600, 40, 10, 1e-9)).toThrow(/a hop of 1e-9 s is less than one sample at 40 Hz/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  test('windows longer than every recording give an error and no file (was: 0 windows, exit 0)', async () => {
    const out = path.join(dir, 'empty.safetensors');
    const msg = await fails(data, ['data', 'synth', '--preset', 'butppg-like', '--subjects', '2', '--seconds', '1000', '--out', out]);
    expect(msg).toMatch(/no windows to write/);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('a split that leaves a part empty, or an unknown stratification attribute, writes nothing at all', async () => {
    const out = path.join(dir, 's.safetensors');
    const msg = await fails(data, ['data', 'synth', '--preset', 'mimic-like', '--subjects', '3', '--recording-seconds', '30', '--out', out, '--split', '1,0,0']);
    expect(msg).toMatch(/leaves the val and test split\(s\) of 3 subject\(s\) empty/);
    expect(fs.existsSync(out)).toBe(false);
    const out2 = path.join(dir, 's2.safetensors');
    const msg2 = await fails(data, ['data', 'synth', '--preset', 'mimic-like', '--subjects', '6', '--recording-seconds', '30', '--out', out2, '--split', '0.6,0.2,0.2', '--stratify', 'nonexistent']);
    expect(msg2).toMatch(/nonexistent/);
    expect(fs.existsSync(out2)).toBe(false);
  });
});

describe('experiment configurations', () => {
  test("the names '.' and '..' are refused (they wrote into the folder above --runs)", () => {
    const base = experimentPreset('quickstart');
    for (const name of ['.', '..']) expect(() => parseExperimentConfig({ ...base, name })).toThrow(/name: .*not '\.' or '\.\.'/);
    expect(parseExperimentConfig({ ...base, name: 'a.b-c_1' }).name).toBe('a.b-c_1');
  });

  test('settings every cell would reject later are rejected by the schema', () => {
    const base = experimentPreset('quickstart');
    expect(() => parseExperimentConfig({ ...base, evaluation: { ...base.evaluation, mmdPermutations: 0 } })).toThrow(/mmdPermutations/);
    expect(() => parseExperimentConfig({ ...base, evaluation: { ...base.evaluation, maxEmbeddingRows: 1 } })).toThrow(/maxEmbeddingRows/);
  });

  test(`a grid of more than ${LARGE_GRID} cells starts only with --yes`, async () => {
    const cfg = { ...experimentPreset('quickstart'), seeds: Array.from({ length: 100_000 }, (_, i) => i) };
    const file = path.join(dir, 'huge.json');
    fs.writeFileSync(file, JSON.stringify(cfg));
    const msg = await fails(registerExperimentCommand, ['experiment', '--config', file, '--runs', path.join(dir, 'runs')]);
    expect(msg).toMatch(/the grid has 1200000 cells .* more than 1000: check the configuration, then pass --yes/);
    expect(fs.existsSync(path.join(dir, 'runs'))).toBe(false);
  });
});

/** A fresh tiny HR model on the cpu backend, with the checkpoint functions. */
async function tinyModel() {
  const { getBackend } = await import('../../src/engine/registry');
  const { modelConfig } = await import('../../src/model/config');
  const { PpgGpt } = await import('../../src/model/ppg-gpt');
  const { loadCheckpoint, saveCheckpoint } = await import('../../src/model/checkpoint');
  const be = getBackend('cpu'), c = modelConfig('tiny', { hrPatches: 2 });
  const m = new PpgGpt(be, c, { next: false, hr: true });
  m.store.initialise(c, 1);
  return { be, m, loadCheckpoint, saveCheckpoint };
}

describe('silent wrong results', () => {
  test('a checkpoint with a NaN weight is refused on load, naming the parameter', async () => {
    const { be, m, loadCheckpoint, saveCheckpoint } = await tinyModel();
    const w = be.download(m.store.value('gpt_layers.1.ffn.linear1.weight'));
    w[5] = NaN;
    be.upload(m.store.value('gpt_layers.1.ffn.linear1.weight'), w);
    const f = path.join(dir, 'nan.safetensors');
    saveCheckpoint(f, m);
    expect(() => loadCheckpoint(be, f)).toThrow(/parameter 'gpt_layers\.1\.ffn\.linear1\.weight' holds NaN at index 5: the checkpoint is damaged/);
  });

  test('garbled checkpoint metadata is named field by field', async () => {
    const { be, m, loadCheckpoint, saveCheckpoint } = await tinyModel();
    const f = path.join(dir, 'meta.safetensors');
    saveCheckpoint(f, m, { stage: 'finetune', strategy: 'groupdro', groups: '["F","M"]' });
    expect(loadCheckpoint(be, f).heads).toEqual({ next: false, hr: true });
    saveCheckpoint(f, m, { stage: 'warmup' });
    expect(() => loadCheckpoint(be, f)).toThrow(/checkpoint metadata "stage"/);
    saveCheckpoint(f, m, { groups: 'F,M' });
    expect(() => loadCheckpoint(be, f)).toThrow(/checkpoint metadata "groups" a JSON array of group names/);
  });

  test('HR labels outside the physiological range are refused at save (import) and at load', async () => {
    const { saveWindowSet, loadWindowSet } = await import('../../src/data/cache/windowset-file');
    const { writeSafetensors, readSafetensors } = await import('../../src/util/safetensors');
    const ws = {
      domain: 'x', fs: 40, length: 4, windows: new Float32Array(8), hr: Float32Array.from([70, 1e6]),
      subjectIndex: Int32Array.from([0, 0]), subjects: [{ id: 's', attributes: { gender: 'F' } }], manifest: {},
    };
    const f = path.join(dir, 'labels.safetensors');
    expect(() => saveWindowSet(f, ws)).toThrow(/window 1 has HR label 1000000 bpm, outside the physiological range \[20, 300\]/);
    saveWindowSet(f, { ...ws, hr: Float32Array.from([70, 80]) });
    const file = readSafetensors(f);
    (file.tensors.hr.data as Float32Array)[0] = -50;
    writeSafetensors(f, file.tensors, file.metadata);
    expect(() => loadWindowSet(f)).toThrow(/window 0 has HR label -50 bpm/);
  });
});

describe('vague errors become one line naming the input', () => {
  test('--runs that is a file (was ENOTDIR from a mkdir deep inside)', async () => {
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    expect(await fails(registerExperimentCommand, ['experiment', '--preset', 'quickstart', '--runs', file])).toMatch(/--runs .*not-a-dir is a file, not a directory/);
    expect(await fails(registerExperimentCommand, ['experiment', '--preset', 'quickstart', '--runs', path.join(file, 'below')])).toMatch(/not-a-dir is a file, not a directory/);
  });

  test('a one-subject data set says the validation split cannot be held out (was: groups: no subjects)', async () => {
    const one = path.join(dir, 'one.safetensors');
    expect(await fails(registerDataCommand, ['data', 'synth', '--preset', 'dalia-like', '--subjects', '1', '--recording-seconds', '60', '--out', one])).toBe('');
    const msg = await fails(registerFinetuneCommand, ['finetune', '--data', one, '--scratch', '--out', path.join(dir, 'ft.safetensors'), '--backend', 'reference']);
    expect(msg).toMatch(/has 1 subject\(s\); holding out a validation split by subject needs at least 2 \(or give --val FILE\)/);
  });
});

test('a bad option value is one line and a pointer to --help, not the whole help text', () => {
  requireDist(['src/cli']);
  const r = spawnSync(process.execPath, [CLI, 'data', 'synth', '--preset', 'dalia-like', '--out', path.join(dir, 'x.safetensors'), '--subjects', 'abc'], { encoding: 'utf8' });
  expect(r.status).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toEqual([expect.stringMatching(/--subjects must be an integer ≥ 1, got "abc"/), '(fairtune <command> --help lists the options)']);
});

describe('flat windows (a disconnected sensor) carry labels but no pulse', () => {
  test('imports drop them and count them; finetune refuses a set that holds them', async () => {
    const subjects = [{ id: 's1', attributes: { gender: 'F' } }, { id: 's2', attributes: { gender: 'M' } }];
    const fs40 = 40, seconds = 60;
    const pulse = (k: number) => Float32Array.from({ length: fs40 * seconds }, (_, i) => Math.sin((2 * Math.PI * 1.2 * i) / fs40) + 0.01 * k);
    const flatThenPulse = pulse(0);
    flatThenPulse.fill(0, 0, 30 * fs40); // the first 30 s are all zero
    const recs = [
      { subjectId: 's1', recordId: 'r1', fs: fs40, signal: flatThenPulse, beats: Float64Array.from({ length: 70 }, (_, i) => i / 1.2) },
      { subjectId: 's2', recordId: 'r2', fs: fs40, signal: pulse(1), beats: Float64Array.from({ length: 70 }, (_, i) => i / 1.2) },
    ];
    const ws = makeWindows(recs, subjects, { domain: 'flat', seconds: 10 });
    expect((ws.manifest.dropped as { flat: number }).flat).toBeGreaterThanOrEqual(2);
    expect(ws.hr.length).toBe(12 - (ws.manifest.dropped as { flat: number }).flat - (ws.manifest.dropped as { gaps: number }).gaps);
    for (let i = 0; i < ws.hr.length; i++) expect(isFlatWindow(ws.windows.subarray(i * ws.length, (i + 1) * ws.length))).toBe(false);
    // A set written without the check (made by hand here) is refused by finetune, naming the count.
    const bad = { ...ws, windows: new Float32Array(ws.windows) };
    bad.windows.fill(0, 0, ws.length);
    const file = path.join(dir, 'flat.safetensors');
    saveWindowSet(file, bad);
    const msg = await fails(registerFinetuneCommand, ['finetune', '--data', file, '--scratch', '--out', path.join(dir, 'flat-ft.safetensors'), '--backend', 'reference']);
    expect(msg).toMatch(/--data .*flat\.safetensors has 1 flat window\(s\) \(no signal; the first is window 0\)/);
  });
});
