// Runs an experiment grid in process: data → (pretraining) → every cell not yet finished → report.
// Each finished cell is one JSON file under runs/<name>/cells, written atomically, so an interrupted grid
// resumes where it stopped and a finished one is only re-reported.
import * as fs from 'fs';
import * as path from 'path';
import type { Backend } from '../engine/backend';
import { groupNames as vocabulary } from '../fairness/groups';
import { writeReport, summaryTable } from '../report';
import type { ExperimentConfig } from './config';
import { targetsOf } from './config';
import { cellId, cellsOf, runCell } from './cell';
import { prepareDomains } from './data-stage';
import { ensurePretrained } from './pretrain-stage';
import type { CellResult, ExperimentResults } from './results';
import { progressBar } from '../cli/progress';

export interface RunOptions {
  /** Parent of runs/<name> (default ./runs). */
  runsDir: string;
  backend: Backend;
  log?: (s: string) => void;
  progress?: boolean;
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 1));
  fs.renameSync(tmp, file);
}

export async function runExperiment(c: ExperimentConfig, o: RunOptions): Promise<{ dir: string; results: ExperimentResults; summary: string }> {
  const log = o.log ?? (() => {});
  const dir = path.join(o.runsDir, c.name);
  const cellsDir = path.join(dir, 'cells');
  fs.mkdirSync(cellsDir, { recursive: true });
  writeJsonAtomic(path.join(dir, 'config.json'), c);
  const targets = targetsOf(c);
  const needed = [...new Set([...c.sources, ...targets, ...(c.pretrain && 'domains' in c.pretrain ? c.pretrain.domains ?? Object.keys(c.domains) : [])])];
  const domains = prepareDomains(c, dir, needed, log);
  const allSubjects = [...domains.values()].flatMap((d) => [...d.train.subjects, ...d.val.subjects, ...d.test.subjects]);
  const groups = vocabulary(allSubjects, { attributes: c.groupBy.attributes, bands: c.groupBy.bands });
  log(`groups by ${c.groupBy.attributes.join(' × ')}: ${groups.join(', ')}`);

  const cells = cellsOf(c);
  const results: CellResult[] = [];
  const failed: { id: string; error: string }[] = [];
  let pretraining: { epoch: number; loss: number }[] | undefined;
  const checkpoints = new Map<string, string | null>();
  for (const size of c.sizes) {
    const bar = progressBar(`pretrain ${size}`, 1, 'steps', o.progress);
    const pre = ensurePretrained(c, size, domains, dir, o.backend, {
      onStep: (d, t, loss) => { bar.setTotal(t); bar.update(d, { nll: loss }); },
      log,
    });
    bar.stop();
    checkpoints.set(size, pre.checkpoint);
    pretraining ??= pre.curve;
  }
  let done = 0;
  for (const spec of cells) {
    const id = cellId(c, spec);
    const file = path.join(cellsDir, `${id}.json`);
    done++;
    if (fs.existsSync(file)) {
      results.push(JSON.parse(fs.readFileSync(file, 'utf8')) as CellResult);
      log(`[${done}/${cells.length}] ${spec.source} · ${spec.strategy} · ${spec.size} · seed ${spec.seed}: already finished`);
      continue;
    }
    const bar = progressBar(`[${done}/${cells.length}] ${spec.source} ${spec.strategy} s${spec.seed}`, 1, 'steps', o.progress);
    try {
      const r = runCell(c, spec, domains, groups, targets, checkpoints.get(spec.size) ?? null, o.backend, {
        onStep: (d, t, info) => { bar.setTotal(t); bar.update(d, { loss: info.loss }); },
      });
      bar.stop();
      writeJsonAtomic(file, r);
      results.push(r);
      const own = r.targets.find((t) => t.target === spec.source) ?? r.targets[0];
      log(`[${done}/${cells.length}] ${spec.source} · ${spec.strategy} · ${spec.size} · seed ${spec.seed}: ` +
        `MAE ${own.metrics.mae.estimate.toFixed(2)} gap ${own.metrics.gap.estimate.toFixed(2)} on ${own.target} · ${r.training.windowsPerSecond.toFixed(0)} windows/s · ${r.training.seconds.toFixed(1)} s`);
    } catch (e) {
      bar.stop();
      const error = e instanceof Error ? e.message : String(e);
      failed.push({ id, error });
      log(`[${done}/${cells.length}] ${id} FAILED: ${error}`);
    }
  }
  const manifests: Record<string, Record<string, unknown>> = {};
  for (const [n, d] of domains) manifests[n] = { ...d.manifest, windows: { train: d.train.hr.length, val: d.val.hr.length, test: d.test.hr.length } };
  const exp: ExperimentResults = {
    name: c.name, config: c as unknown as Record<string, unknown>, manifests, pretraining, cells: results, failed, created: new Date().toISOString(),
  };
  await writeReport(dir, exp);
  return { dir, results: exp, summary: summaryTable(exp) };
}
