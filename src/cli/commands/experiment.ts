import * as fs from 'fs';
import type { Command } from 'commander';
import { getBackend } from '../../engine/registry';
import { parseExperimentConfig } from '../../experiment/config';
import { experimentPreset, PRESET_NAMES } from '../../experiment/presets';
import { runExperiment } from '../../experiment/run';

export function registerExperimentCommand(program: Command): void {
  program
    .command('experiment')
    .description('run a grid of fairness fine-tuning runs and write runs/<name>/ (cells JSON, metrics.csv, report.html)')
    .option('--preset <name>', `built-in configuration (${PRESET_NAMES.join(', ')})`)
    .option('--config <file>', 'experiment configuration (JSON)')
    .option('--runs <dir>', 'where run folders go', 'runs')
    .option('--backend <name>', 'compute backend (default: fastest available)')
    .option('--name <name>', 'override the experiment name (its folder)')
    .action(async (o: { preset?: string; config?: string; runs: string; backend?: string; name?: string }) => {
      if ((o.preset === undefined) === (o.config === undefined)) throw new Error('give exactly one of --preset and --config');
      let config;
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
      const backend = getBackend(o.backend ?? config.backend, (why) => console.error(`note: ${why}`));
      console.log(`experiment ${config.name}: ${config.sources.length} sources × ${config.strategies.length} strategies × ${config.sizes.length} sizes × ${config.seeds.length} seeds on ${backend.name} (${backend.description})`);
      const t0 = Date.now();
      const { dir, results, summary } = await runExperiment(config, { runsDir: o.runs, backend, log: (s) => console.log(s) });
      console.log('');
      console.log(summary);
      console.log(`\n${results.cells.length} cells (${results.failed.length} failed) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      console.log(`report: ${dir}/report.html   metrics: ${dir}/metrics.csv`);
      if (results.failed.length > 0) process.exitCode = 1;
    });
}
