// Built-in experiment presets. `quickstart` is the README's main job: synthetic cohorts of the three
// domains, a short pretraining stage, all four strategies and two seeds on the tiny model, cross-validated by
// subject so that every group is judged on all its subjects, sized to finish in about two minutes on two cores. `paper` is the FairTune grid (19m to 1b): meant for bigger machines.
import { parseExperimentConfig, ExperimentConfig } from './config';

const RAW: Record<string, unknown> = {
  quickstart: {
    name: 'quickstart',
    windowSeconds: 10,
    domains: {
      'dalia-like': { kind: 'synthetic', preset: 'dalia-like', seed: 1 },
      'butppg-like': { kind: 'synthetic', preset: 'butppg-like', seed: 2 },
      'mimic-like': { kind: 'synthetic', preset: 'mimic-like', seed: 3 },
    },
    sources: ['dalia-like', 'butppg-like', 'mimic-like'],
    strategies: ['erm', 'if', 'groupdro', 'adv'],
    sizes: ['tiny'],
    seeds: [0, 1],
    pretrain: { epochs: 10, batchSize: 32, lr: 2e-3, seed: 0 },
    finetune: { epochs: 8, batchSize: 32, lr: 2e-3, warmupSteps: 10, patience: 0, mode: "full", dropout: 0.1 },
    strategyParams: { groupdroEta: 0.01, advLambda: 0.1, advWidth: 32 },
    evaluation: { bootstrap: 200, mmdPermutations: 50, maxEmbeddingRows: 200, projection: true },
    // The dalia-like cohort has 15 subjects (7 F, 8 M): a holdout test split would evaluate one of each, so
    // 'auto' cross-validates; 3 folds evaluate every subject once at 3 fine-tunings per cell.
    split: { protocol: 'auto', folds: 3 },
  },
  // Question 1 of the paper: intersections. Gender × age (under 50, 50 and over) gives four groups; a BUT-PPG-
  // like cohort of 120 (ages 19–76; age's effect on the pulse shape is documented in data/synth/effects.ts)
  // gives each at least 5 subjects, all tested once (3 folds). The gap is then max − min and the mean
  // absolute deviation of the group MAEs from the overall MAE, with subject-bootstrap intervals; a group
  // below evaluation.minSubjectsPerGroup would be marked, not dropped.
  intersectional: {
    name: 'intersectional',
    windowSeconds: 10,
    domains: {
      'butppg-like': { kind: 'synthetic', preset: 'butppg-like', seed: 2, subjects: 120 },
    },
    sources: ['butppg-like'],
    strategies: ['erm', 'if', 'groupdro', 'adv'],
    sizes: ['tiny'],
    seeds: [0],
    groupBy: { attributes: ['gender', 'age'], bands: { age: [50] } },
    pretrain: { epochs: 10, batchSize: 32, lr: 2e-3, seed: 0 },
    finetune: { epochs: 8, batchSize: 32, lr: 2e-3, warmupSteps: 10, patience: 0, mode: 'full', dropout: 0.1 },
    strategyParams: { groupdroEta: 0.01, advLambda: 0.1, advWidth: 32 },
    evaluation: { bootstrap: 200, mmdPermutations: 50, maxEmbeddingRows: 200, projection: true },
    split: { protocol: 'kfold', folds: 3 },
  },
  // Question 2 of the paper: does scale widen the gap? The same transfers at tiny and 19m (two seeds, 3 folds
  // of the dalia-like cohort, every strategy); the report's scaling section plots gap, MAE, MMD² and silhouette
  // against the parameter count. 7.8 minutes on 2 cores of an AMD EPYC Zen 5 (the 19m cells dominate, about a
  // minute each); the paper preset draws the same section from 19m to 1b on bigger machines or many workers.
  scaling: {
    name: 'scaling',
    windowSeconds: 10,
    domains: {
      'dalia-like': { kind: 'synthetic', preset: 'dalia-like', seed: 1 },
      'mimic-like': { kind: 'synthetic', preset: 'mimic-like', seed: 3 },
    },
    sources: ['dalia-like'],
    strategies: ['erm', 'if', 'groupdro', 'adv'],
    sizes: ['tiny', '19m'],
    seeds: [0, 1],
    pretrain: { epochs: 4, batchSize: 32, lr: 1e-3, seed: 0 },
    finetune: { epochs: 4, batchSize: 32, lr: 1e-3, warmupSteps: 10, patience: 0, mode: 'full', dropout: 0.1 },
    strategyParams: { groupdroEta: 0.01, advLambda: 0.1, advWidth: 32 },
    evaluation: { bootstrap: 200, mmdPermutations: 50, maxEmbeddingRows: 200, projection: true },
    split: { protocol: 'kfold', folds: 3 },
  },
  // Question 4 of the paper: do fairer HR predictions give fairer alarms? An ICU-like cohort of 60 (about 45
  // tachycardia/bradycardia episodes over 6.7 hours) and the wearable cohort, each fine-tuned on and tested on
  // both; the report's alarm section sets each strategy's alarm gaps (event sensitivity, false alarms per
  // hour, time to alarm; icu and wearable profiles) beside its MAE gap.
  alarms: {
    name: 'alarms',
    windowSeconds: 10,
    domains: {
      'mimic-like': { kind: 'synthetic', preset: 'mimic-like', seed: 3, subjects: 60 },
      'dalia-like': { kind: 'synthetic', preset: 'dalia-like', seed: 1 },
    },
    sources: ['mimic-like', 'dalia-like'],
    strategies: ['erm', 'if', 'groupdro', 'adv'],
    sizes: ['tiny'],
    seeds: [0, 1],
    pretrain: { epochs: 10, batchSize: 32, lr: 2e-3, seed: 0 },
    finetune: { epochs: 8, batchSize: 32, lr: 2e-3, warmupSteps: 10, patience: 0, mode: 'full', dropout: 0.1 },
    strategyParams: { groupdroEta: 0.01, advLambda: 0.1, advWidth: 32 },
    evaluation: { bootstrap: 200, mmdPermutations: 50, maxEmbeddingRows: 200, projection: true },
    split: { protocol: 'kfold', folds: 3 },
  },
  paper: {
    name: 'paper',
    windowSeconds: 10,
    domains: {
      'dalia-like': { kind: 'synthetic', preset: 'dalia-like', seed: 1 },
      'butppg-like': { kind: 'synthetic', preset: 'butppg-like', seed: 2 },
      'mimic-like': { kind: 'synthetic', preset: 'mimic-like', seed: 3 },
    },
    sources: ['dalia-like', 'butppg-like', 'mimic-like'],
    strategies: ['erm', 'if', 'groupdro', 'adv'],
    sizes: ['19m', '85m', '345m', '1b'],
    seeds: [0, 1, 2],
    pretrain: { epochs: 10, batchSize: 32, lr: 3e-4, seed: 0 },
    finetune: { epochs: 20, batchSize: 32, lr: 1e-4, warmupSteps: 100, patience: 5, mode: 'full', dropout: 0.1 },
    strategyParams: { groupdroEta: 0.01, advLambda: 0.1, advWidth: 256 },
    evaluation: { bootstrap: 1000, mmdPermutations: 200, maxEmbeddingRows: 500, projection: true },
  },
};

export const PRESET_NAMES = Object.keys(RAW);

export function experimentPreset(name: string): ExperimentConfig {
  const raw = RAW[name];
  if (!raw) throw new Error(`unknown experiment preset '${name}' (choose ${PRESET_NAMES.join(', ')})`);
  return parseExperimentConfig(raw, `preset ${name}`);
}
