import * as fs from 'fs';
import type { Command } from 'commander';
import { getBackend } from '../../engine/registry';
import { ExperimentConfig, parseExperimentConfig } from '../../experiment/config';
import { experimentPreset, PRESET_NAMES } from '../../experiment/presets';
import { reportExperiment, runExperiment } from '../../experiment/run';
import type { GridRunner } from '../../experiment/runner';
import { summaryTable, writeReport } from '../../report';
import { BullmqRunner } from '../../runner/bullmq/runner';
import { LocalRunner } from '../../runner/local';
import { displayUrl } from '../../runner/bullmq/connection';
import { dirOption } from '../options';

interface ExperimentOptions {
  preset?: string;
  config?: string;
  runs: string;
  backend?: string;
  name?: string;
  queue?: string;
  report?: boolean;
  yes?: boolean;
}

/** Above this many cells a grid starts only with --yes (a typo in seeds can mean days of compute). */
export const LARGE_GRID = 1000;

function loadConfig(o: ExperimentOptions): ExperimentConfig {
  if ((o.preset === undefined) === (o.config === undefined)) throw new Error('give exactly one of --preset and --config');
  let config: ExperimentConfig;
  if (o.config !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(o.config, 'utf8'));
    } catch (e) {
      throw new Error(`--config ${o.config}: ${(e as Error).message}`);
    }
    config = parseExperimentConfig(raw, o.config);
  } else {
    config = experimentPreset(o.preset!);
  }
  if (o.name) config = parseExperimentConfig({ ...config, name: o.name });
  return config;
}

export function registerExperimentCommand(program: Command): void {
  program
    .command('experiment')
    .description('run a grid of fairness fine-tuning runs and write runs/<name>/ (cells JSON, metrics.csv, report.html)')
    .option('--preset <name>', `built-in configuration (${PRESET_NAMES.join(', ')})`)
    .option('--config <file>', 'experiment configuration (JSON)')
    .option('--runs <dir>', 'where run folders go (with --queue: a directory every worker shares)', dirOption('--runs'), 'runs')
    .option('--backend <name>', 'compute backend (default: fastest available)')
    .option('--name <name>', 'override the experiment name (its folder)')
    .option('--queue <url>', 'run the cells on `fairtune worker` processes through Redis (redis://HOST:PORT/N)')
    .option('--report', 'only build the report from the stored results (with --queue: failed jobs are listed too)')
    .option('--yes', `start a grid of more than ${LARGE_GRID} cells`)
    .action(async (o: ExperimentOptions) => {
      const config = loadConfig(o);
      const t0 = Date.now();
      if (o.report) {
        const runner = o.queue !== undefined ? new BullmqRunner(o.queue) : null;
        try {
          const failed = runner ? await runner.failures(config) : [];
          const { dir, results, missing } = await reportExperiment(config, { runsDir: o.runs, failed, log: (s) => console.log(s) });
          await writeReport(dir, results);
          console.log(summaryTable(results));
          console.log(`\n${results.cells.length} cells (${results.failed.length} failed, ${missing.length} not finished)`);
          console.log(`report: ${dir}/report.html   metrics: ${dir}/metrics.csv`);
          if (results.failed.length > 0) process.exitCode = 1;
        } finally {
          await runner?.close();
        }
        return;
      }
      const cells = config.sources.length * config.strategies.length * config.sizes.length * config.seeds.length;
      if (cells > LARGE_GRID && !o.yes) {
        throw new Error(`the grid has ${cells} cells (${config.sources.length} sources × ${config.strategies.length} strategies × ` +
          `${config.sizes.length} sizes × ${config.seeds.length} seeds), more than ${LARGE_GRID}: check the configuration, then pass --yes to start it`);
      }
      const backend = getBackend(o.backend ?? config.backend, (why) => console.error(`note: ${why}`));
      console.log(`experiment ${config.name}: ${cells} cells (${config.sources.length} sources × ${config.strategies.length} strategies × ${config.sizes.length} sizes × ${config.seeds.length} seeds) on ${backend.name} (${backend.description})` +
        (o.queue !== undefined ? `; cells on the workers of ${displayUrl(o.queue)}` : ''));
      // The CLI picks where the cells run and writes the report: the experiment layer knows neither.
      const runner: GridRunner = o.queue !== undefined ? new BullmqRunner(o.queue) : new LocalRunner(backend);
      try {
        const { dir, results } = await runExperiment(config, { runsDir: o.runs, backend, log: (s) => console.log(s), runner });
        await writeReport(dir, results);
        console.log('');
        console.log(summaryTable(results));
        console.log(`\n${results.cells.length} cells (${results.failed.length} failed) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        console.log(`report: ${dir}/report.html   metrics: ${dir}/metrics.csv`);
        if (results.failed.length > 0) process.exitCode = 1;
      } finally {
        await runner.close();
      }
    });
}
