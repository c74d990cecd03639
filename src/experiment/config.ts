// The experiment configuration: one validated object (zod) with defaults, read from a JSON file or taken
// from a built-in preset. Unknown keys are errors, so a typo never silently falls back to a default.
import { z } from 'zod';
import { MODEL_SIZES } from '../model/config';
import { STRATEGY_NAMES } from '../fairness/strategies';
import { ALARM_PROFILE_NAMES, resolveRule, type AlarmProfileName } from '../fairness/alarms/rules';

const sizeNames = Object.keys(MODEL_SIZES) as [keyof typeof MODEL_SIZES, ...(keyof typeof MODEL_SIZES)[]];

/**
 * Names that become folder and file names (runs/<name>, data/<domain>-train.safetensors): letters, digits,
 * '_', '.', '-', but not '.' or '..' alone, which would write into the folder above --runs.
 */
const SAFE_NAME = /^(?!\.{1,2}$)[A-Za-z0-9_.-]+$/;
const SAFE_NAME_RULE = "use letters, digits, _ . - only (and not '.' or '..')";

export const DomainSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('synthetic'),
    preset: z.enum(['dalia-like', 'butppg-like', 'mimic-like']),
    seed: z.number().int().default(0),
    subjects: z.number().int().positive().optional(),
    seconds: z.number().positive().optional(),
    recordings: z.number().int().positive().optional(),
    /** Matched groups: the genders' mean resting HR differs by exactly the documented effect (data/synth/subjects.ts). */
    matched: z.boolean().optional(),
  }).strict(),
  z.object({
    kind: z.literal('windows'),
    /** A window-set file (`fairtune data synth|import --out`), split by subject here. */
    file: z.string(),
  }).strict(),
]);

const FINETUNE_MODE = z.string().regex(/^(full|head|lora|last\d+)$/, 'full, head, lora or lastN');

/** The fine-tuning modes of a config as a list (the grid axis). */
export function finetuneModes(c: { finetune: { mode: string | readonly string[] } }): string[] {
  return typeof c.finetune.mode === 'string' ? [c.finetune.mode] : [...new Set(c.finetune.mode)];
}

export const ExperimentConfigSchema = z.object({
  name: z.string().regex(SAFE_NAME, SAFE_NAME_RULE),
  /** Compute backend (default: the fastest available). */
  backend: z.string().optional(),
  windowSeconds: z.number().int().positive().default(10),
  domains: z.record(z.string().regex(SAFE_NAME, SAFE_NAME_RULE), DomainSchema),
  /** Fine-tuning sources; each is evaluated on every target. */
  sources: z.array(z.string()).min(1),
  /** Targets (default: every domain). */
  targets: z.array(z.string()).optional(),
  strategies: z.array(z.enum(STRATEGY_NAMES)).min(1),
  sizes: z.array(z.enum(sizeNames)).min(1).default(['tiny']),
  seeds: z.array(z.number().int().nonnegative()).min(1).default([0]),
  groupBy: z.object({
    attributes: z.array(z.string()).min(1).default(['gender']),
    bands: z.record(z.string(), z.array(z.number())).optional(),
  }).strict().default({ attributes: ['gender'] }),
  split: z.object({
    /**
     * 'holdout': one train/val/test split by subject (the fractions below). 'kfold': subject-wise k-fold
     * cross-validation, every subject tested once and a cell's metrics pooled over the folds (each fold's
     * training subjects split train/val in the ratio of the fractions). 'auto' (default): k-fold wherever a
     * holdout test split would leave a group with fewer than evaluation.minSubjectsPerGroup subjects.
     * folds is capped at the smallest domain's subject count, where it is then leave-one-subject-out.
     */
    protocol: z.enum(['auto', 'holdout', 'kfold']).default('auto'),
    folds: z.number().int().min(2).max(1000).default(5),
    train: z.number().min(0).max(1).default(0.6),
    val: z.number().min(0).max(1).default(0.2),
    test: z.number().min(0).max(1).default(0.2),
    seed: z.number().int().default(0),
  }).strict().default({ protocol: 'auto', folds: 5, train: 0.6, val: 0.2, test: 0.2, seed: 0 }),
  pretrain: z.union([
    z.object({ checkpoint: z.string() }).strict(),
    z.object({
      domains: z.array(z.string()).optional(),
      epochs: z.number().int().positive().default(3),
      batchSize: z.number().int().positive().default(32),
      lr: z.number().positive().default(1e-3),
      seed: z.number().int().default(0),
    }).strict(),
    z.literal(false),
  ]).default(false),
  finetune: z.object({
    epochs: z.number().int().positive().default(8),
    batchSize: z.number().int().positive().default(32),
    /** Windows per forward/backward pass (gradient accumulation); divides batchSize. */
    microBatch: z.number().int().positive().optional(),
    lr: z.number().positive().default(1e-3),
    warmupSteps: z.number().int().nonnegative().default(10),
    weightDecay: z.number().nonnegative().default(0.01),
    clipNorm: z.number().nonnegative().default(1),
    patience: z.number().int().nonnegative().default(0),
    /**
     * What is trained: full, head, lora, lastN; or a list of them, which makes the mode a grid axis (every
     * strategy fine-tuned each way, so adapter-based debiasing is compared with full fine-tuning).
     */
    mode: z.union([FINETUNE_MODE, z.array(FINETUNE_MODE).min(1)]).default('full'),
    /** LoRA adapters on w_q and w_v, used with mode 'lora'. */
    loraRank: z.number().int().positive().default(8),
    loraAlpha: z.number().positive().default(16),
    dropout: z.number().min(0).lt(1).default(0.1),
  }).strict().default({ epochs: 8, batchSize: 32, lr: 1e-3, warmupSteps: 10, weightDecay: 0.01, clipNorm: 1, patience: 0, mode: 'full', loraRank: 8, loraAlpha: 16, dropout: 0.1 }),
  /**
   * Optimiser steps between the saved training states of a running cell (runs/<name>/cells/<id>.fold<f>.state
   * .safetensors, deleted when the cell is stored): a cell killed mid-way, on a queue worker or locally,
   * continues from its last state and ends exactly as an uninterrupted run. Does not change any result.
   */
  checkpointEvery: z.number().int().min(1).default(100),
  strategyParams: z.object({
    groupdroEta: z.number().positive().default(0.01),
    /** η of 'groupdro-paper' (gw_g = 1 + η·L̂_g). */
    reweightEta: z.number().positive().default(1),
    advLambda: z.number().nonnegative().default(0.1),
    advWidth: z.number().int().positive().default(64),
  }).strict().default({ groupdroEta: 0.01, reweightEta: 1, advLambda: 0.1, advWidth: 64 }),
  evaluation: z.object({
    bootstrap: z.number().int().min(10).default(200),
    // Bounded as the cells' own checks bound them, so a bad value fails here, before any training.
    mmdPermutations: z.number().int().min(1).default(100),
    /** MMD² estimator: 'unbiased' (MMD²_u, default) or 'biased' (MMD²_b, the V-statistic some papers report). */
    mmdEstimator: z.enum(['unbiased', 'biased']).default('unbiased'),
    /**
     * Fewer evaluated subjects than this in a group marks that target's metrics as unreliable (the report
     * shows the mark, not an interval that looks precise), and under split.protocol 'auto' chooses k-fold.
     */
    minSubjectsPerGroup: z.number().int().min(1).default(5),
    /** Rows per group used for MMD and silhouette (subsampled); MMD needs 2 per group. */
    maxEmbeddingRows: z.number().int().min(2).default(300),
    projection: z.boolean().default(true),
    /**
     * Alarm fairness: each target's predictions turned into tachycardia/bradycardia alarms under its device
     * profile (auto: icu for MIMIC-like, spot-check for BUT-PPG-like, wearable otherwise; see
     * src/fairness/alarms/rules.ts), with any field of the rule overridden here. Needs window sets that
     * record window times (every set fairtune writes does).
     */
    alarms: z.object({
      enabled: z.boolean().default(true),
      profile: z.enum(['auto', ...ALARM_PROFILE_NAMES] as [string, ...string[]]).default('auto'),
      high: z.number().positive().optional(),
      low: z.number().positive().optional(),
      n: z.number().int().min(1).optional(),
      m: z.number().int().min(1).max(1000).optional(),
      mergeSeconds: z.number().min(0).optional(),
      toleranceSeconds: z.number().min(0).optional(),
    }).strict().default({ enabled: true, profile: 'auto' }),
  }).strict().default({ bootstrap: 200, mmdPermutations: 100, mmdEstimator: 'unbiased', minSubjectsPerGroup: 5, maxEmbeddingRows: 300, projection: true, alarms: { enabled: true, profile: 'auto' } }),
}).strict().superRefine((c, ctx) => {
  const names = new Set(Object.keys(c.domains));
  const check = (list: string[] | undefined, what: string) => {
    for (const d of list ?? []) if (!names.has(d)) ctx.addIssue({ code: 'custom', path: [what], message: `unknown domain '${d}' (defined: ${[...names].join(', ')})` });
  };
  check(c.sources, 'sources');
  check(c.targets, 'targets');
  if (c.pretrain && 'domains' in c.pretrain) check(c.pretrain.domains, 'pretrain.domains');
  const { enabled: _on, profile, ...overrides } = c.evaluation.alarms;
  for (const p of profile === 'auto' ? ALARM_PROFILE_NAMES : [profile as AlarmProfileName]) {
    try {
      resolveRule(p, overrides);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['evaluation', 'alarms'], message: (e as Error).message });
      break;
    }
  }
  const s = c.split.train + c.split.val + c.split.test;
  if (Math.abs(s - 1) > 1e-6) ctx.addIssue({ code: 'custom', path: ['split'], message: `train + val + test must be 1, got ${s}` });
});

export type ExperimentConfig = z.infer<typeof ExperimentConfigSchema>;

export function parseExperimentConfig(raw: unknown, where = 'experiment config'): ExperimentConfig {
  const r = ExperimentConfigSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(`${where} is invalid:\n${r.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  return r.data;
}

export function targetsOf(c: ExperimentConfig): string[] {
  return c.targets ?? Object.keys(c.domains);
}
