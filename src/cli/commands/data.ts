// `fairtune data`: make, import and inspect the model-ready window sets (safetensors cache files).
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { loadWindowSet, saveWindowSet } from '../../data/cache/windowset-file';
import { SPLIT_NAMES, SplitFractions, splitWindowSet } from '../../data/split';
import { formatSummary, summarizeWindowSet } from '../../data/summary';
import { renderDataPlotSvg } from '../../data/summary-plot';
import { DEFAULT_GROUP_EFFECTS, scaleGroupEffects } from '../../data/synth/effects';
import { PRESET_NAMES } from '../../data/synth/presets';
import { synthWindowSet } from '../../data/synth/synth-windows';
import type { LoadedDataset } from '../../data/loaders/types';
import { WindowSet } from '../../data/types';
import { makeWindows } from '../../data/windows';
import { HR_BANDS, measureRealRecord, measureSyntheticPreset, type RealismResult, type RealRecordSpec } from '../../data/realism';
import { renderRealismSvg } from '../../report/realism-plot';
import { toCsv } from '../../report/csv';
import { writeFileAtomic } from '../../util/atomic-write';

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

function positive(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number > 0, got "${v}"`);
    return n;
  };
}

function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0, got "${v}"`);
    return n;
  };
}

function fractions(v: string): SplitFractions {
  const parts = v.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) {
    throw new InvalidArgumentError(`--split takes three non-negative fractions train,val,test (e.g. 0.6,0.2,0.2), got "${v}"`);
  }
  const sum = parts[0] + parts[1] + parts[2];
  if (Math.abs(sum - 1) > 1e-6) throw new InvalidArgumentError(`--split fractions must sum to 1, got ${sum}`);
  return { train: parts[0], val: parts[1], test: parts[2] };
}

interface WriteOptions {
  out: string;
  split?: SplitFractions;
  stratify?: string;
  seed: number;
}

/** `x.safetensors` + split "train" → `x.train.safetensors`. */
export function splitFileName(out: string, split: string): string {
  const ext = path.extname(out) || '.safetensors';
  const base = path.extname(out) ? out.slice(0, -ext.length) : out;
  return `${base}.${split}${ext}`;
}

function writeOutputs(ws: WindowSet, o: WriteOptions, log: (s: string) => void): void {
  // Everything is checked before anything is written: an empty set or a bad split leaves no file behind.
  if (ws.hr.length === 0) {
    throw new Error(`no windows to write: every recording is shorter than one window (--seconds) or was rejected; nothing written to ${o.out}`);
  }
  const parts = o.split ? splitWindowSet(ws, o.split, o.seed, o.stratify) : null;
  if (parts) {
    const empty = SPLIT_NAMES.filter((k) => parts[k].hr.length === 0);
    if (empty.length > 0) {
      throw new Error(`--split ${o.split!.train},${o.split!.val},${o.split!.test} leaves the ${empty.join(' and ')} split(s) of ${ws.subjects.length} subject(s) empty; nothing written`);
    }
  }
  fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
  saveWindowSet(o.out, ws);
  log(`wrote ${o.out}: ${ws.hr.length} windows, ${ws.subjects.length} subjects (${ws.domain})`);
  if (parts) {
    for (const k of SPLIT_NAMES) {
      const file = splitFileName(o.out, k);
      saveWindowSet(file, parts[k]);
      log(`wrote ${file}: ${parts[k].hr.length} windows, ${parts[k].subjects.length} subjects`);
    }
  }
}

/**
 * The real-dataset loaders, imported when called: they pull in pickle and WFDB readers that `synth`
 * and `inspect` do not need.
 */
const DATASETS = {
  dalia: async (dir: string): Promise<LoadedDataset> => (await import('../../data/loaders/dalia')).loadDalia(dir),
  butppg: async (dir: string): Promise<LoadedDataset> => (await import('../../data/loaders/butppg')).loadButPpg(dir),
  mimic: async (dir: string): Promise<LoadedDataset> => (await import('../../data/loaders/mimic')).loadMimic(dir),
} as const;
type DatasetName = keyof typeof DATASETS;

export function registerDataCommand(program: Command, log: (s: string) => void = (s) => console.log(s)): Command {
  const data = program.command('data').description('make, import and inspect window sets (safetensors cache files)');

  data
    .command('synth')
    .description('generate a synthetic cohort and write its 40 Hz windows')
    .addOption(new Option('--preset <name>', 'synthetic domain').choices([...PRESET_NAMES]).makeOptionMandatory())
    .requiredOption('--out <file>', 'output .safetensors file')
    .option('--seed <n>', 'random seed', int('--seed', 0), 1)
    .option('--seconds <s>', 'window length in seconds', positive('--seconds'), 10)
    .option('--hop <s>', 'hop between windows in seconds (default: the window length)', positive('--hop'))
    .option('--subjects <n>', "number of subjects (default: the preset's)", int('--subjects', 1))
    .option('--recordings <n>', "recordings (clips) per subject (default: the preset's)", int('--recordings', 1))
    .option('--recording-seconds <s>', "seconds per recording (default: the preset's)", positive('--recording-seconds'))
    .option('--group-effects <scale>', 'scale of the group effects (0 = none, 1 = default, 2 = doubled)', nonNegative('--group-effects'), 1)
    .option('--clean', 'no noise, motion or baseline wander (estimator accuracy floor)')
    .option('--matched', "matched groups: the genders' mean resting HR differs by exactly the documented effect")
    .option('--no-episodes', 'no tachycardia/bradycardia episodes')
    .option('--split <train,val,test>', 'also write <out>.train/.val/.test split by subject', fractions)
    .option('--stratify <attribute>', 'stratify the split by this subject attribute (e.g. gender)')
    .action((o: {
      preset: string; out: string; seed: number; seconds: number; hop?: number; subjects?: number; recordings?: number;
      recordingSeconds?: number; groupEffects: number; clean?: boolean; matched?: boolean; episodes: boolean; split?: SplitFractions; stratify?: string;
    }) => {
      const ws = synthWindowSet(o.preset, {
        matched: o.matched ?? false,
        episodes: o.episodes,
        seed: o.seed,
        subjects: o.subjects,
        recordings: o.recordings,
        seconds: o.recordingSeconds,
        windowSeconds: o.seconds,
        hopSeconds: o.hop,
        effects: scaleGroupEffects(DEFAULT_GROUP_EFFECTS, o.groupEffects),
        clean: o.clean ?? false,
      });
      ws.manifest.groupEffectsScale = o.groupEffects;
      writeOutputs(ws, { out: o.out, split: o.split, stratify: o.stratify, seed: o.seed }, log);
    });

  data
    .command('import')
    .description('read a downloaded dataset folder and write its 40 Hz windows')
    .addArgument(new Argument('<dataset>', 'dataset').choices(Object.keys(DATASETS)))
    .argument('<dir>', 'dataset folder')
    .requiredOption('--out <file>', 'output .safetensors file')
    .option('--seconds <s>', 'window length in seconds', positive('--seconds'), 10)
    .option('--hop <s>', 'hop between windows in seconds (default: the window length)', positive('--hop'))
    .option('--seed <n>', 'seed for --split', int('--seed', 0), 1)
    .option('--split <train,val,test>', 'also write <out>.train/.val/.test split by subject', fractions)
    .option('--stratify <attribute>', 'stratify the split by this subject attribute (e.g. gender)')
    .action(async (dataset: DatasetName, dir: string, o: { out: string; seconds: number; hop?: number; seed: number; split?: SplitFractions; stratify?: string }) => {
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`data import: ${dir} is not a folder`);
      const loaded = await DATASETS[dataset](dir);
      for (const line of loaded.report) log(`${dataset}: ${line}`);
      const ws = makeWindows(loaded.recordings, loaded.subjects, {
        domain: dataset,
        seconds: o.seconds,
        hopSeconds: o.hop,
        manifest: { source: `${dataset}:${loaded.root}`, loaderReport: loaded.report },
      });
      writeOutputs(ws, { out: o.out, split: o.split, stratify: o.stratify, seed: o.seed }, log);
    });

  data
    .command('inspect')
    .description('summarise window set files (counts, HR per group, subjects)')
    .argument('<files...>', '.safetensors window set files')
    .option('--json', 'print the summary as JSON')
    .option('--plot <file.svg>', 'write example windows and HR histograms per group as SVG')
    .option('--group-by <attribute>', 'attribute for the plot histograms', 'gender')
    .action(async (files: string[], o: { json?: boolean; plot?: string; groupBy: string }) => {
      const sets = files.map((f) => {
        if (!fs.existsSync(f)) throw new Error(`data inspect: no such file ${f}`);
        return loadWindowSet(f);
      });
      const summaries = sets.map(summarizeWindowSet);
      if (o.json) log(JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2));
      else log(summaries.map(formatSummary).join('\n\n'));
      if (o.plot) {
        const svg = await renderDataPlotSvg(sets, { groupBy: o.groupBy });
        writeFileAtomic(o.plot, svg);
        if (!o.json) log(`wrote ${o.plot}`);
      }
    });

  data
    .command('realism')
    .description('compare real PPG records with the synthetic domains (harmonics, noise bands, average beat): <out>.json, .csv, .svg')
    .requiredOption('--record <spec...>', 'real WFDB record as path:channel or path:channel:from:to (frames); several may follow')
    .requiredOption('--out <prefix>', 'output prefix, e.g. docs/synthetic-realism')
    .option('--seed <n>', 'seed of the synthetic cohorts', int('--seed', 0), 1)
    .option('--subjects <n>', 'subjects per synthetic cohort', int('--subjects', 1), 6)
    .action(async (o: { record: string[]; out: string; seed: number; subjects: number }) => {
      const specs: RealRecordSpec[] = o.record.map((r) => {
        const m = /^(.+?):([^:]+)(?::(\d+):(\d+))?$/.exec(r);
        if (!m) throw new Error(`data realism: --record ${r} is not path:channel or path:channel:from:to`);
        return { record: m[1], channel: m[2], sampFrom: m[3] === undefined ? undefined : Number(m[3]), sampTo: m[4] === undefined ? undefined : Number(m[4]) };
      });
      const result: RealismResult = { rows: [], curves: [] };
      for (const s of specs) {
        const { row, curve } = measureRealRecord(s);
        result.rows.push(row);
        result.curves.push(curve);
        log(`${row.source}: ${row.segments} segment(s), ${row.seconds.toFixed(0)} s`);
      }
      for (const preset of PRESET_NAMES) {
        for (const clean of [false, true]) {
          // BUT-PPG clips are 10 s; the statistics need 8 s segments, so its recordings are lengthened to 60 s.
          const long = preset === 'butppg-like' ? { seconds: 60, recordings: 1 } : {};
          const { row, curve } = measureSyntheticPreset(preset, { seed: o.seed, subjects: o.subjects, clean, ...long });
          result.rows.push(row);
          if (!clean) result.curves.push(curve);
          log(`${row.source}: ${row.segments} recording(s), ${row.seconds.toFixed(0)} s`);
        }
      }
      const cols = ['source', 'kind', 'segments', 'seconds', 'hrBpm', 'h2h1', 'h3h1', 'baselineShare', 'pulseShare', 'highShare', 'notchDepth', 'notchPhase'] as const;
      const svg = await renderRealismSvg(result);
      writeFileAtomic(`${o.out}.json`, JSON.stringify(result, null, 1) + '\n');
      const num = (v: number) => Number(v.toPrecision(4));
      const bands = HR_BANDS.map(([lo, hi]) => `${lo}-${hi}`);
      writeFileAtomic(`${o.out}.csv`, toCsv([...cols, ...bands.map((b) => `h2h1_hr${b}`)], result.rows.map((r) => [
        ...cols.map((c) => (typeof r[c] === 'number' ? num(r[c] as number) : (r[c] as string))),
        ...bands.map((b) => { const x = r.h2h1ByHr.find((y) => y.band === b); return x ? num(x.h2h1) : ''; }),
      ])));
      writeFileAtomic(`${o.out}.svg`, svg);
      log(`wrote ${o.out}.json, ${o.out}.csv, ${o.out}.svg`);
    });
  return data;
}
