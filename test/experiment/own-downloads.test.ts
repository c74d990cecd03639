// The path a user takes with their own download, end to end: a PPG-DaLiA folder (subject pickles in the
// layout of the real S{n}.pkl files) → `fairtune data import dalia` → an experiment config whose domain is
// that window set (`kind: windows`, as examples/own-data.json) → `fairtune experiment --config` → results.
import { Command } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { registerDataCommand } from '../../src/cli/commands/data';
import { registerExperimentCommand } from '../../src/cli/commands/experiment';
import type { ExperimentResults } from '../../src/experiment/results';
import { subjectPickle, writeDaliaSubject } from '../data/loaders/dalia-writer';

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

test('a DaLiA download imported and run as an experiment domain', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-own-'));
  try {
    const download = path.join(dir, 'download');
    for (let i = 1; i <= 10; i++) writeDaliaSubject(download, `S${i}`, subjectPickle(`S${i}`, i % 2 ? ' m' : ' f', 20 + 3 * i, 120));
    const windows = path.join(dir, 'dalia.safetensors');
    await cli(registerDataCommand, ['data', 'import', 'dalia', download, '--out', windows]);
    expect(fs.existsSync(windows)).toBe(true);

    // examples/own-data.json with its one wrist domain pointing at the import, and settings small enough for a test.
    const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'own-data.json'), 'utf8')) as Record<string, unknown>;
    const config = {
      ...example,
      domains: { wrist: { kind: 'windows', file: windows } },
      sources: ['wrist'],
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
    expect(results.cells.map((c) => c.strategy).sort()).toEqual(['erm', 'groupdro']);
    for (const c of results.cells) {
      expect(c.groupNames).toEqual(['F', 'M']);
      // Ten subjects: 'auto' cross-validates, so every one is evaluated.
      expect(c.targets[0].metrics.subjects).toBe(10);
    }
    expect(fs.existsSync(path.join(dir, 'runs', 'own-data', 'report.html'))).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120000);
