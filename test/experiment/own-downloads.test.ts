// The path a user takes with their own downloads, end to end: a PPG-DaLiA folder (subject pickles in the
// layout of the real S{n}.pkl files) and a BUT-PPG folder (its two BOM CSVs and format-16 WFDB records, 30 Hz)
// → `fairtune data import dalia|butppg` → an experiment config whose domains are those window sets (`kind:
// windows`, as examples/own-data.json) → `fairtune experiment --config` → results, each domain a target of
// the other. (MIMIC imports are tested in their loader tests on the real WFDB fixtures, which hold one
// subject: too few for a fairness grid.)
import { Command } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { registerDataCommand } from '../../src/cli/commands/data';
import { registerExperimentCommand } from '../../src/cli/commands/experiment';
import type { ExperimentResults } from '../../src/experiment/results';
import { subjectPickle, writeDaliaSubject } from '../data/loaders/dalia-writer';
import { writeFormat16Record } from '../data/wfdb/writer';

async function cli(register: (p: Command) => void, args: string[]): Promise<void> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  register(program);
  for (const c of program.commands) c.exitOverride();
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await program.parseAsync(['node', 'fairtune', ...args]);
  } finally {
    log.mockRestore();
  }
}

test('a DaLiA and a BUT-PPG download imported and run as experiment domains', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-own-'));
  try {
    const download = path.join(dir, 'download');
    for (let i = 1; i <= 10; i++) writeDaliaSubject(download, `S${i}`, subjectPickle(`S${i}`, i % 2 ? ' m' : ' f', 20 + 3 * i, 120));
    const windows = path.join(dir, 'dalia.safetensors');
    await cli(registerDataCommand, ['data', 'import', 'dalia', download, '--out', windows]);
    expect(fs.existsSync(windows)).toBe(true);

    // BUT-PPG: subjects 100–109 (IDs SSSRRR), three 10 s smartphone records each, genders alternating.
    const phoneDir = path.join(dir, 'butppg');
    const BOM = '\uFEFF', ann = ['ID,Quality,HR'], info = ['ID,Gender,Age [years],Height [cm],Weight [kg],Ear/finger,Motion'];
    for (let s = 0; s < 10; s++) {
      for (let r = 1; r <= 3; r++) {
        const id = `${100 + s}00${r}`, hr = 58 + 4 * s + 3 * r;
        ann.push(`${id},1,${hr}`);
        info.push(`${id},${s % 2 ? 'M' : 'F'},${25 + 3 * s},170,70,finger,0`);
        const samples = Array.from({ length: 300 }, (_, i) => Math.round(800 * Math.sin((2 * Math.PI * hr * i) / 60 / 30) + 50 * Math.sin(i / 7)));
        writeFormat16Record(path.join(phoneDir, id), `${id}_PPG`, [{ name: 'PPG', gain: 100, samples }], { fs: 30 });
      }
    }
    fs.mkdirSync(phoneDir, { recursive: true });
    fs.writeFileSync(path.join(phoneDir, 'quality-hr-ann.csv'), BOM + ann.join('\r\n') + '\r\n');
    fs.writeFileSync(path.join(phoneDir, 'subject-info.csv'), BOM + info.join('\n') + '\n');
    const phone = path.join(dir, 'butppg.safetensors');
    await cli(registerDataCommand, ['data', 'import', 'butppg', phoneDir, '--out', phone]);
    expect(fs.existsSync(phone)).toBe(true);

    // examples/own-data.json with its one wrist domain pointing at the import, and settings small enough for a test.
    const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'own-data.json'), 'utf8')) as Record<string, unknown>;
    const config = {
      ...example,
      domains: { wrist: { kind: 'windows', file: windows }, phone: { kind: 'windows', file: phone } },
      sources: ['wrist', 'phone'],
      strategies: ['erm', 'groupdro'],
      seeds: [0],
      pretrain: { epochs: 1, batchSize: 16 },
      finetune: { epochs: 1, batchSize: 16 },
      evaluation: { bootstrap: 20, mmdPermutations: 10, maxEmbeddingRows: 40, projection: false },
    };
    const file = path.join(dir, 'own.json');
    fs.writeFileSync(file, JSON.stringify(config));
    await cli(registerExperimentCommand, ['experiment', '--config', file, '--runs', path.join(dir, 'runs'), '--backend', 'cpu']);
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'runs', 'own-data', 'results.json'), 'utf8')) as ExperimentResults;
    expect(results.failed).toEqual([]);
    expect(results.cells.map((c) => `${c.source} ${c.strategy}`).sort()).toEqual(['phone erm', 'phone groupdro', 'wrist erm', 'wrist groupdro']);
    for (const c of results.cells) {
      expect(c.groupNames).toEqual(['F', 'M']);
      // Ten subjects in each domain: 'auto' cross-validates, so every one is evaluated, in both targets.
      expect(c.targets.map((t) => t.metrics.subjects)).toEqual([10, 10]);
    }
    expect(fs.existsSync(path.join(dir, 'runs', 'own-data', 'report.html'))).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120000);
