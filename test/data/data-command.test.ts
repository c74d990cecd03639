import { Command } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { registerDataCommand, splitFileName } from '../../src/cli/commands/data';
import { loadWindowSet } from '../../src/data/cache/windowset-file';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-cli-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  const out: string[] = [];
  const program = new Command().exitOverride().configureOutput({ writeErr: (s) => out.push(s), writeOut: (s) => out.push(s) });
  registerDataCommand(program, (s) => out.push(s));
  for (const c of program.commands) c.exitOverride();
  for (const c of program.commands[0].commands) c.exitOverride().configureOutput({ writeErr: (s) => out.push(s) });
  await program.parseAsync(['node', 'fairtune', ...args]);
  return out.join('\n');
}

describe('fairtune data', () => {
  test('synth writes a window set (+ splits); inspect prints text, JSON and an SVG', async () => {
    const out = path.join(dir, 'm.safetensors');
    const log = await run(['data', 'synth', '--preset', 'mimic-like', '--seed', '3', '--subjects', '5', '--recording-seconds', '30', '--out', out, '--split', '0.6,0.2,0.2', '--stratify', 'gender']);
    expect(log).toMatch(/wrote .*m\.safetensors: 15 windows, 5 subjects/);
    const ws = loadWindowSet(out);
    expect(ws.hr.length).toBe(15);
    expect(ws.manifest).toMatchObject({ preset: 'mimic-like', seed: 3, groupEffectsScale: 1 });
    expect(typeof ws.manifest.createdAt).toBe('string');
    const parts = ['train', 'val', 'test'].map((k) => loadWindowSet(splitFileName(out, k)));
    expect(parts.reduce((a, p) => a + p.hr.length, 0)).toBe(15);

    const text = await run(['data', 'inspect', out]);
    expect(text).toMatch(/domain mimic-like: 15 windows of 10 s/);
    expect(text).toMatch(/by gender:/);
    const json = JSON.parse(await run(['data', 'inspect', out, '--json']));
    expect(json.windows).toBe(15);
    expect(json.perSubject).toHaveLength(5);
    const svg = path.join(dir, 'p.svg');
    await run(['data', 'inspect', out, splitFileName(out, 'train'), '--plot', svg]);
    expect(fs.readFileSync(svg, 'utf8')).toMatch(/^<svg/);
  });

  test('unknown presets, datasets and malformed options are clear errors', async () => {
    await expect(run(['data', 'synth', '--preset', 'nope', '--out', path.join(dir, 'x')])).rejects.toThrow(/Allowed choices are dalia-like, butppg-like, mimic-like/);
    await expect(run(['data', 'synth', '--preset', 'dalia-like', '--seed', '1.5', '--out', path.join(dir, 'x')])).rejects.toThrow(/--seed must be an integer/);
    await expect(run(['data', 'synth', '--preset', 'dalia-like', '--out', path.join(dir, 'x'), '--split', '0.7,0.7,0'])).rejects.toThrow(/sum to 1/);
    await expect(run(['data', 'import', 'wesad', dir, '--out', path.join(dir, 'x')])).rejects.toThrow(/Allowed choices are dalia, butppg, mimic/);
    await expect(run(['data', 'import', 'butppg', path.join(dir, 'missing'), '--out', path.join(dir, 'x')])).rejects.toThrow(/is not a folder/);
    await expect(run(['data', 'inspect', path.join(dir, 'none.safetensors')])).rejects.toThrow(/no such file/);
  });

  test('splitFileName inserts the split before the extension', () => {
    expect(splitFileName('/a/b.safetensors', 'train')).toBe('/a/b.train.safetensors');
    expect(splitFileName('out', 'val')).toBe('out.val.safetensors');
  });
});
