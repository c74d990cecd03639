// Checks that an ExperimentResults read from disk has every field the report reads, with the right types,
// before any chart is built: a malformed results.json then fails with the path of the bad field rather than
// with a TypeError deep inside a chart, or worse, a silently wrong chart. Only the fields the report uses are
// checked; extra fields are allowed (records may grow).
import { z } from 'zod';
import type { ExperimentResults } from '../experiment/results';

const interval = z.object({ estimate: z.number(), lo: z.number(), hi: z.number() });

const embeddingReport = z.object({
  dim: z.number().int().positive(),
  mmd: z.object({
    mmd2: z.number(), pValue: z.number().min(0).max(1), pair: z.tuple([z.string(), z.string()]),
    estimator: z.enum(['unbiased', 'biased']).optional(),
  }),
  silhouette: z.object({
    score: z.number(),
    perGroup: z.array(z.object({ group: z.string(), score: z.number(), rows: z.number() })),
  }),
});

const fairnessReport = z.object({
  windows: z.number().int().nonnegative(),
  subjects: z.number().int().nonnegative(),
  mae: interval,
  rmse: interval,
  perGroup: z.array(z.object({ group: z.string(), windows: z.number(), subjects: z.number(), mae: interval })).min(1),
  gap: interval,
  worstGroup: interval.extend({ group: z.string() }),
  bootstrap: z.object({ resamples: z.number(), level: z.number() }),
  embeddings: z.record(z.string(), embeddingReport),
});

const projection = z
  .object({ embedding: z.string(), x: z.array(z.number()), y: z.array(z.number()), group: z.array(z.number().int().nonnegative()) })
  .refine((p) => p.x.length === p.y.length && p.y.length === p.group.length, { message: 'x, y and group must have the same length' });

const cell = z.object({
  id: z.string(),
  source: z.string(),
  strategy: z.string(),
  size: z.string(),
  seed: z.number().int(),
  params: z.record(z.string(), z.union([z.number(), z.string()])),
  groupNames: z.array(z.string()).min(1),
  training: z.object({
    epochs: z.array(z.object({
      epoch: z.number(),
      trainLoss: z.number(),
      valMae: z.number().nullable(),
      // A group absent from an epoch's batches has loss NaN, which JSON turns into null.
      trainGroupLoss: z.array(z.union([z.number(), z.nan(), z.null()])),
    })),
    bestEpoch: z.number(),
    bestValMae: z.number().nullable(),
    windowsPerSecond: z.number(),
    seconds: z.number(),
  }),
  targets: z.array(z.object({
    target: z.string(), metrics: fairnessReport, projection: projection.optional(),
    subjectErrors: z.array(z.object({ subject: z.string(), group: z.string(), windows: z.number().int().positive(), absErrorSum: z.number().nonnegative() })).optional(),
  })),
  finished: z.string(),
});

const experimentResults = z.object({
  name: z.string(),
  config: z.record(z.string(), z.unknown()),
  manifests: z.record(z.string(), z.record(z.string(), z.unknown())),
  pretraining: z.array(z.object({ epoch: z.number(), loss: z.number() })).optional(),
  cells: z.array(cell),
  failed: z.array(z.object({ id: z.string(), error: z.string() })),
  created: z.string(),
});

/** Throws an error listing every bad field (path and problem) when `results` is not a usable ExperimentResults. */
export function checkResults(results: unknown): asserts results is ExperimentResults {
  const r = experimentResults.safeParse(results);
  if (!r.success) throw new Error(`report: invalid experiment results:\n${z.prettifyError(r.error)}`);
  const cells = (results as ExperimentResults).cells;
  cells.forEach((c, i) => {
    c.targets.forEach((t, j) => {
      const at = `report: cells[${i}] (${c.id}) target ${j} (${t.target})`;
      // A target may lack some groups (small cohorts, intersections): its groups are the cell's, in order.
      const names = t.metrics.perGroup.map((g) => g.group);
      let k = 0;
      for (const n of names) {
        while (k < c.groupNames.length && c.groupNames[k] !== n) k++;
        if (k === c.groupNames.length) {
          throw new Error(`${at}: per-group metrics are for [${names.join(', ')}], not a subset in order of the cell's groups [${c.groupNames.join(', ')}]`);
        }
        k++;
      }
      for (const g of t.projection?.group ?? []) {
        if (g >= c.groupNames.length) throw new Error(`${at}: projection group id ${g} is not in [0, ${c.groupNames.length})`);
      }
    });
    c.training.epochs.forEach((e, k) => {
      if (e.trainGroupLoss.length !== 0 && e.trainGroupLoss.length !== c.groupNames.length) {
        throw new Error(`report: cells[${i}] (${c.id}) epoch ${k}: trainGroupLoss has ${e.trainGroupLoss.length} values for ${c.groupNames.length} groups`);
      }
    });
  });
}
