// PPG-GPT configurations (DESIGN.md section 3). Only 19m is a published configuration; the larger ones
// follow the FairTune paper's parameter counts and are this project's definition until official ones appear.
import { z } from 'zod';

export const ModelConfigSchema = z
  .object({
    /** Model width D. */
    dim: z.number().int().positive(),
    layers: z.number().int().positive(),
    heads: z.number().int().positive(),
    /** Patch length P in samples (40 at 40 Hz: one second). */
    patch: z.number().int().positive().default(40),
    /** Largest number of patches T the model accepts (S = T + 1 tokens). */
    maxPatches: z.number().int().positive().default(60),
    /** Patches per window the HR head is built for (its LayerNorm and Linear span S·D). */
    hrPatches: z.number().int().positive().default(10),
    /** Hidden width of the block MLP as a multiple of D. */
    ffnMult: z.number().int().positive().default(4),
    dropout: z.number().min(0).lt(1).default(0.1),
    rmsEps: z.number().positive().default(1e-8),
    lnEps: z.number().positive().default(1e-5),
    /** Weight λ of the logit-Laplace NLL in the HR loss. */
    lambda: z.number().min(0).default(1),
    /** ε of the logit-Laplace squashing u = (1 − 2ε)v + ε. */
    eps: z.number().positive().lt(0.5).default(0.1),
    /** LoRA rank on w_q and w_v (0: no adapters). */
    loraRank: z.number().int().nonnegative().default(0),
    /** LoRA scale numerator: the update is (alpha / rank)·B·A. */
    loraAlpha: z.number().positive().default(16),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.dim % c.heads !== 0) ctx.addIssue({ code: 'custom', message: `dim ${c.dim} is not divisible by heads ${c.heads}` });
    else if ((c.dim / c.heads) % 4 !== 0) {
      ctx.addIssue({ code: 'custom', message: `head dim ${c.dim / c.heads} must be a multiple of 4 (partial interleaved RoPE on d/2 features)` });
    }
    if (c.hrPatches > c.maxPatches) ctx.addIssue({ code: 'custom', message: `hrPatches ${c.hrPatches} exceeds maxPatches ${c.maxPatches}` });
  });

export type ModelConfig = z.infer<typeof ModelConfigSchema>;

export const MODEL_SIZES = {
  tiny: { dim: 64, layers: 2, heads: 4 },
  '19m': { dim: 512, layers: 6, heads: 8 },
  '85m': { dim: 768, layers: 12, heads: 12 },
  '345m': { dim: 1024, layers: 24, heads: 16 },
  '1b': { dim: 2048, layers: 20, heads: 16 },
} as const;

export type ModelSize = keyof typeof MODEL_SIZES;

export function isModelSize(s: string): s is ModelSize {
  return Object.prototype.hasOwnProperty.call(MODEL_SIZES, s);
}

/** A full config from a size name (or a partial custom config) plus overrides; validated. */
export function modelConfig(size: ModelSize | Partial<ModelConfig>, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const base = typeof size === 'string' ? { ...MODEL_SIZES[size] } : size;
  const parsed = ModelConfigSchema.safeParse({ ...base, ...overrides });
  if (!parsed.success) {
    throw new Error(`invalid model config: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function headDim(c: ModelConfig): number {
  return c.dim / c.heads;
}
