// A short end-to-end experiment: synthetic cohorts, a pretraining stage, all four strategies, report.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { getBackend } from '../../src/engine/registry';
import { parseExperimentConfig } from '../../src/experiment/config';
import { experimentPreset } from '../../src/experiment/presets';
import { runExperiment } from '../../src/experiment/run';
import { writeReport } from '../../src/report';
import { LocalRunner } from '../../src/runner/local';

const small = {
  name: 'e2e',
  windowSeconds: 10,
  domains: {
    a: { kind: 'synthetic', preset: 'dalia-like', seed: 1, subjects: 10, seconds: 120 },
    b: { kind: 'synthetic', preset: 'mimic-like', seed: 2, subjects: 10, seconds: 120, recordings: 1 },
  },
  sources: ['a'],
  strategies: ['erm', 'if', 'groupdro', 'adv'],
  seeds: [0],
  pretrain: { epochs: 1, batchSize: 16 },
  finetune: { epochs: 2, batchSize: 16 },
  evaluation: { bootstrap: 20, mmdPermutations: 10, maxEmbeddingRows: 40, projection: true },
  // 10 subjects leave 1 per group in a holdout test split ('auto' would choose k-fold): this test is about
  // the pipeline, so it keeps the cheaper protocol; test/experiment/kfold.test.ts covers cross-validation.
  split: { protocol: 'holdout' },
};

describe('fairtune experiment', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-exp-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs every cell, writes JSON per cell, a CSV and an HTML report with charts, and resumes', async () => {
    const c = parseExperimentConfig(small);
    const logs: string[] = [];
    const backend = getBackend('cpu'), runner = new LocalRunner(backend);
    const { results } = await runExperiment(c, { runsDir: dir, backend, runner, log: (s) => logs.push(s), progress: false });
    // As the CLI does: the experiment layer gathers the results, the report is written on top of it.
    await writeReport(path.join(dir, 'e2e'), results);
    expect(results.failed).toEqual([]);
    expect(results.cells).toHaveLength(4);
    for (const cell of results.cells) {
      expect(cell.targets.map((t) => t.target)).toEqual(['a', 'b']);
      expect(cell.groupNames).toEqual(['F', 'M']);
      expect(cell.targets[0].metrics.perGroup).toHaveLength(2);
      expect(Number.isFinite(cell.targets[0].metrics.gap.estimate)).toBe(true);
    }
    const run = path.join(dir, 'e2e');
    expect(fs.readdirSync(path.join(run, 'cells')).filter((f) => f.endsWith('.json'))).toHaveLength(4);
    const html = fs.readFileSync(path.join(run, 'report.html'), 'utf8');
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(6);
    for (const s of ['erm', 'if', 'groupdro', 'adv']) expect(html).toContain(s);
    const csv = fs.readFileSync(path.join(run, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBeGreaterThan(8);
    expect(fs.existsSync(path.join(run, 'pretrained-tiny.safetensors'))).toBe(true);
    // A second run finds every cell finished and only re-reports.
    const again: string[] = [];
    const r2 = await runExperiment(c, { runsDir: dir, backend, runner, log: (s) => again.push(s), progress: false });
    expect(again.filter((l) => l.includes('already finished'))).toHaveLength(4);
    expect(r2.results.cells.map((x) => x.id)).toEqual(results.cells.map((x) => x.id));
  }, 300000);

  it('rejects bad configurations with the path of the problem', () => {
    expect(() => parseExperimentConfig({ ...small, sources: ['zzz'] })).toThrow(/sources: unknown domain 'zzz'/);
    expect(() => parseExperimentConfig({ ...small, strategies: ['dro'] })).toThrow(/strategies/);
    expect(() => parseExperimentConfig({ ...small, bogus: 1 })).toThrow(/bogus|Unrecognized/);
    expect(() => parseExperimentConfig({ ...small, split: { train: 0.9, val: 0.2, test: 0.2 } })).toThrow(/split/);
    expect(() => experimentPreset('nope')).toThrow(/unknown experiment preset 'nope'/);
  });

  it('the paper preset is a valid grid of the four large sizes', () => {
    const p = experimentPreset('paper');
    expect(p.sizes).toEqual(['19m', '85m', '345m', '1b']);
    expect(p.strategies).toHaveLength(4);
  });
});
