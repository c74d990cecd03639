// The kernel table: for every WGSL entry point, its file, tensor arguments (and which it writes), scalar
// uniforms and default compile-time constants. The backend refers to kernels only through this table.
import type { KernelDef, ParamType } from './wgsl';

const r = (name: string) => ({ name, write: false });
const w = (name: string) => ({ name, write: true });
const u = (...names: string[]) => names.map((name) => ({ name, type: 'u32' as ParamType }));
const f = (...names: string[]) => names.map((name) => ({ name, type: 'f32' as ParamType }));

/** Workgroup size of the one-invocation-per-element kernels. */
export const ELEMENTWISE_WG = 256;
/** Workgroup size of the row kernels (norms) and the single-workgroup reductions. */
export const ROW_WG = 64;
export const REDUCE_WG = 256;

const ew = (entry: string, tensors: { name: string; write: boolean }[], params = u('n')): KernelDef => ({
  file: 'elementwise.wgsl', entry, tensors, params, consts: { WG: ELEMENTWISE_WG },
});

/** GEMM tile: TM×TN outputs per workgroup, RM×RN per invocation, K in steps of TK. */
export const GEMM_TILE = { TM: 64, TN: 64, TK: 16, RM: 4, RN: 4 };
const t = GEMM_TILE;

export const K = {
  relu: ew('relu', [r('x'), w('y')]),
  oneHot: ew('one_hot', [r('ids'), w('out')], u('n', 'G')),
  reluBackward: ew('relu_backward', [r('dy'), r('y'), w('dx')]),
  gelu: ew('gelu', [r('x'), w('y')]),
  geluBackward: ew('gelu_backward', [r('dy'), r('x'), w('dx')]),
  add: ew('add', [r('a'), r('b'), w('y')]),
  axpy: ew('axpy', [r('src'), w('dst')], [...u('n'), ...f('alpha')]),
  scale: ew('scale', [w('x')], [...u('n'), ...f('s')]),

  gemm: {
    file: 'gemm.wgsl', entry: 'gemm',
    tensors: [r('a'), r('b'), w('c'), r('bias')],
    params: u('M', 'N', 'kb', 'ke', 'sa_i', 'sa_k', 'sb_k', 'sb_j', 'accumulate', 'relu'),
    consts: {
      TM: t.TM, TN: t.TN, TK: t.TK, RM: t.RM, RN: t.RN, TXN: t.TN / t.RN, TYM: t.TM / t.RM,
      NT: (t.TN / t.RN) * (t.TM / t.RM), TKTM: t.TK * t.TM, TKTN: t.TK * t.TN, RMRN: t.RM * t.RN,
    },
  } satisfies KernelDef,
  columnSum: {
    file: 'gemm.wgsl', entry: 'column_sum', tensors: [r('a'), w('out')], params: u('r0', 'r1', 'cols', 'lda'), consts: { WG: 64 },
  } satisfies KernelDef,

  rmsForward: {
    file: 'norm.wgsl', entry: 'rms_forward', tensors: [r('x'), r('scale'), w('y'), w('rstd')],
    params: [...u('N', 'D'), ...f('eps')], consts: { WG: ROW_WG },
  } satisfies KernelDef,
  rmsBackwardDx: {
    file: 'norm.wgsl', entry: 'rms_backward_dx', tensors: [r('dy'), r('x'), r('scale'), r('rstd'), w('dx')],
    params: u('N', 'D'), consts: { WG: ROW_WG },
  } satisfies KernelDef,
  rmsBackwardDscale: {
    file: 'norm.wgsl', entry: 'rms_backward_dscale', tensors: [r('dy'), r('x'), r('rstd'), w('dscale')],
    params: u('n0', 'n1', 'D'), consts: { WG: ROW_WG },
  } satisfies KernelDef,
  lnForward: {
    file: 'norm.wgsl', entry: 'ln_forward', tensors: [r('x'), r('gamma'), r('beta'), w('y'), w('mean'), w('rstd')],
    params: [...u('N', 'C'), ...f('eps')], consts: { WG: ROW_WG },
  } satisfies KernelDef,
  lnBackwardDx: {
    file: 'norm.wgsl', entry: 'ln_backward_dx', tensors: [r('dy'), r('x'), r('gamma'), r('mean'), r('rstd'), w('dx')],
    params: u('N', 'C'), consts: { WG: ROW_WG },
  } satisfies KernelDef,
  lnBackwardParams: {
    file: 'norm.wgsl', entry: 'ln_backward_params', tensors: [r('dy'), r('x'), r('mean'), r('rstd'), w('dgamma'), w('dbeta')],
    params: u('n0', 'n1', 'C'), consts: { WG: ROW_WG },
  } satisfies KernelDef,

  startToken: {
    file: 'sequence.wgsl', entry: 'start_token', tensors: [r('e'), r('token'), w('h')], params: u('B', 'T', 'D'),
    consts: { WG: ELEMENTWISE_WG },
  } satisfies KernelDef,
  startTokenBackwardDe: {
    file: 'sequence.wgsl', entry: 'start_token_backward_de', tensors: [r('dh'), w('de')], params: u('B', 'T', 'D'),
    consts: { WG: ELEMENTWISE_WG },
  } satisfies KernelDef,
  meanPool: {
    file: 'sequence.wgsl', entry: 'mean_pool', tensors: [r('h'), w('z')], params: u('B', 'S', 'D'), consts: { WG: ELEMENTWISE_WG },
  } satisfies KernelDef,
  meanPoolBackward: {
    file: 'sequence.wgsl', entry: 'mean_pool_backward', tensors: [r('dz'), w('dh')], params: u('B', 'S', 'D'),
    consts: { WG: ELEMENTWISE_WG },
  } satisfies KernelDef,

  dropoutForward: {
    file: 'dropout.wgsl', entry: 'dropout_forward', tensors: [r('x'), w('y')],
    params: [...u('n', 'k0', 'k1', 'step', 'site', 'threshold'), ...f('scale')], consts: { WG: ELEMENTWISE_WG },
  } satisfies KernelDef,
  dropoutBackward: {
    file: 'dropout.wgsl', entry: 'dropout_backward', tensors: [r('dy'), w('dx')],
    params: [...u('n', 'k0', 'k1', 'step', 'site', 'threshold'), ...f('scale')], consts: { WG: ELEMENTWISE_WG },
  } satisfies KernelDef,
  addDropout: {
    file: 'dropout.wgsl', entry: 'add_dropout', tensors: [r('a'), r('b'), w('y')],
    params: [...u('n', 'k0', 'k1', 'step', 'site', 'threshold'), ...f('scale')], consts: { WG: ELEMENTWISE_WG },
  } satisfies KernelDef,

  hrLoss: {
    file: 'loss.wgsl', entry: 'hr_loss',
    tensors: [r('out'), r('hr'), r('w'), r('group'), w('pred'), w('sample'), w('loss'), w('gsum'), w('gcount')],
    params: [...u('B', 'G'), ...f('lambda', 'eps')], consts: { WG: REDUCE_WG },
  } satisfies KernelDef,
  hrLossBackward: {
    file: 'loss.wgsl', entry: 'hr_loss_backward', tensors: [r('out'), r('hr'), r('w'), w('dout')],
    params: [...u('B'), ...f('lambda', 'eps', 'scale')], consts: { WG: REDUCE_WG },
  } satisfies KernelDef,
  nextPatchNll: {
    file: 'loss.wgsl', entry: 'next_patch_nll', tensors: [r('params'), r('x'), w('loss')],
    params: [...u('B', 'S', 'T', 'P'), ...f('eps')], consts: { WG: REDUCE_WG },
  } satisfies KernelDef,
  nextPatchBackward: {
    file: 'loss.wgsl', entry: 'next_patch_backward', tensors: [r('params'), r('x'), w('dparams')],
    params: [...u('B', 'S', 'T', 'P'), ...f('eps', 'f')], consts: { WG: REDUCE_WG },
  } satisfies KernelDef,
  bce: {
    file: 'loss.wgsl', entry: 'bce', tensors: [r('logits'), r('targets'), w('loss')], params: u('n'), consts: { WG: REDUCE_WG },
  } satisfies KernelDef,
  bceBackward: {
    file: 'loss.wgsl', entry: 'bce_backward', tensors: [r('logits'), r('targets'), w('dlogits')],
    params: [...u('n'), ...f('f')], consts: { WG: REDUCE_WG },
  } satisfies KernelDef,

  softmaxCe: {
    file: 'loss.wgsl', entry: 'softmax_ce', tensors: [r('logits'), r('targets'), w('loss')], params: u('N', 'C'), consts: { WG: REDUCE_WG },
  } satisfies KernelDef,
  softmaxCeBackward: {
    file: 'loss.wgsl', entry: 'softmax_ce_backward', tensors: [r('logits'), r('targets'), w('dlogits')],
    params: [...u('N', 'C'), ...f('f')], consts: { WG: REDUCE_WG },
  } satisfies KernelDef,

  adamw: {
    file: 'optim.wgsl', entry: 'adamw', tensors: [w('param'), r('grad'), w('m'), w('v'), r('norm')],
    params: [...u('n', 'has_norm'), ...f('lr', 'beta1', 'beta2', 'one_minus_beta1', 'one_minus_beta2', 'eps', 'decay', 'bc1', 'bc2', 'grad_scale', 'max_norm')],
    consts: { WG: ELEMENTWISE_WG },
  } satisfies KernelDef,
  sumSquares: {
    file: 'optim.wgsl', entry: 'sum_squares', tensors: [r('x'), w('partial')], params: u('n', 'slot'), consts: { WG: REDUCE_WG },
  } satisfies KernelDef,
  normFromPartials: {
    file: 'optim.wgsl', entry: 'norm_from_partials', tensors: [r('partial'), w('norm')], params: u('count'), consts: { WG: REDUCE_WG },
  } satisfies KernelDef,
  groupDro: {
    file: 'optim.wgsl', entry: 'group_dro', tensors: [w('q'), r('gsum'), r('gcount'), r('group'), w('w')],
    params: [...u('G', 'B'), ...f('eta')], consts: { WG: REDUCE_WG },
  } satisfies KernelDef,
  groupReweight: {
    file: 'optim.wgsl', entry: 'group_reweight', tensors: [r('gsum'), r('gcount'), r('group'), w('gw'), w('w')],
    params: [...u('G', 'B'), ...f('eta')], consts: { WG: REDUCE_WG },
  } satisfies KernelDef,
};

// accum: the backward adds into dq, dk, dv (1) or writes them (0, the overwrite flag).
// lo, hi: the slice of the sliced loop (keys, or queries for dk/dv) this dispatch covers; wg0: its first query
// block (loop-budget.ts).
const ATTENTION_PARAMS = [
  ...u('B', 'S', 'H', 'D'), ...f('scale'), ...u('drop', 'k0', 'k1', 'step', 'site', 'threshold'), ...f('dscale'), ...u('accum', 'lo', 'hi', 'wg0'),
];

/** Invocations (query or key rows) per attention workgroup. */
export const ATTENTION_ROWS = 32;

export const ATTENTION = {
  forward: {
    file: 'attention.wgsl', entry: 'attn_forward', tensors: [r('q'), r('k'), r('v'), r('rope'), w('out'), w('lse'), w('state')],
    params: ATTENTION_PARAMS,
  } satisfies KernelDef,
  delta: {
    file: 'attention.wgsl', entry: 'attn_bwd_delta', tensors: [r('dout'), r('out'), w('delta')], params: ATTENTION_PARAMS,
  } satisfies KernelDef,
  dq: {
    file: 'attention.wgsl', entry: 'attn_bwd_dq',
    tensors: [r('q'), r('k'), r('v'), r('rope'), r('dout'), r('lse'), r('delta'), w('dq')], params: ATTENTION_PARAMS,
  } satisfies KernelDef,
  dkdv: {
    file: 'attention.wgsl', entry: 'attn_bwd_dkdv',
    tensors: [r('q'), r('k'), r('v'), r('rope'), r('dout'), r('lse'), r('delta'), w('dk'), w('dv')], params: ATTENTION_PARAMS,
  } satisfies KernelDef,
};

/** The compile-time constants of the attention kernels for head dim hd (a multiple of 4). */
export function attentionConsts(hd: number): Record<string, number> {
  // Two tiles of KT·hd floats must fit the 32 KiB of workgroup memory this device grants, with room to spare.
  const KT = Math.max(4, Math.min(32, Math.floor(2048 / hd)));
  return { HD: hd, PAIRS: hd / 4, ROT: hd / 2, QT: ATTENTION_ROWS, KT, KTHD: KT * hd, WG: 64 };
}
