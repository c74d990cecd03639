// The op table: every op of the Backend interface declared once, in the order of the Backend method's
// arguments. Everything else about an op's arguments is derived from its entry: the checks all backends run
// (check-call.ts), the native call (native-call.ts), the addons' function lists, the C++ glue of both addons
// (gen-native-glue.ts → native/generated/op_glue.h) and the bad-input tests. Adding an op is one entry here,
// its typed method on the Backend interface, and one kernel per backend (docs/design-notes.md walks through it).
import { acc, flag, inout, inp, key, num, out, type OpSpec } from './op-spec';

const DROP_P = num('p', { min: 0, below: 1 });
const LAPLACE_EPS = num('eps', { above: 0, below: 0.5 });
const HR_OPTS = { kind: 'options', name: 'opts', fields: [num('lambda', { min: 0 }), LAPLACE_EPS] } as const;
// Dropout as an op's option: the attention probabilities', linear's output's, add's second operand's.
const DROPOUT = { kind: 'options', name: 'dropout', optional: true, fields: [DROP_P, key('key')] } as const;
const BSD = ['B', 'S', 'D'];

/** RoPE rotates d/2 features in pairs, so the head dim must split into pairs of pairs. */
const HEAD_RULES = [
  { test: 'D % H == 0', message: 'model width D = {D} is not divisible by heads = {H}', protectsMemory: true },
  {
    test: '(D / H) % 4 == 0',
    message: 'head dim d = D/heads = {D}/{H} = {D/H} must be a multiple of 4 (RoPE rotates d/2 features in pairs)',
    protectsMemory: true,
  },
];

/** Any shape, every tensor the same; nothing to do (and no kernel launched) when empty. */
const elementwise = <N extends string>(name: N, args: OpSpec['args']) => ({ name, args, mayBeZero: ['n'], noopWhenZero: 'n' }) as const;

export const OP_TABLE = [
  // ---- layers ----
  {
    name: 'linear',
    args: [
      inp('x', ['N', 'K']), inp('w', ['M', 'K']), inp('b', ['M'], { optional: true }), out('y', ['N', 'M']), flag('relu'), DROPOUT,
      inp('residual', ['N', 'M'], { optional: true }),
    ],
  },
  {
    name: 'linearBackward',
    args: [
      inp('dy', ['N', 'M']), inp('x', ['N', 'K']), inp('w', ['M', 'K']),
      acc('dx', ['N', 'K'], { optional: true }), acc('dw', ['M', 'K'], { optional: true }), acc('db', ['M'], { optional: true }),
      flag('overwriteDx'), inp('reluOf', ['N', 'K'], { optional: true }), flag('overwriteDw'),
      num('reluScale', { above: 0, default: 1 }),
    ],
    needsFlag: [{
      tensor: 'reluOf', flag: 'overwriteDx',
      message: 'reluOf (the relu backward fused into dx) needs overwriteDx: the gate applies to the whole of dx',
    }],
    factorNeedsTensor: [{
      number: 'reluScale', tensor: 'reluOf',
      message: 'reluScale (the factor on the gated dx) needs reluOf: without the gate there is nothing it applies to',
    }],
  },
  // G products sharing one input (q, k and v from one normalised activation): one GEMM over the stacked
  // weights [G·M, K] on the CPU, whose input is then read and packed once instead of G times.
  {
    name: 'linearFanout',
    args: [inp('x', ['N', 'K']), inp('w', ['G', 'M', 'K']), inp('b', ['G', 'M'], { optional: true }), out('y', ['G', 'N', 'M'])],
  },
  {
    name: 'linearFanoutBackward',
    args: [
      inp('dy', ['G', 'N', 'M']), inp('x', ['N', 'K']), inp('w', ['G', 'M', 'K']),
      acc('dx', ['N', 'K'], { optional: true }), acc('dw', ['G', 'M', 'K'], { optional: true }), acc('db', ['G', 'M'], { optional: true }),
      flag('overwriteDx'), flag('overwriteDw'),
    ],
  },
  {
    name: 'patchEmbed',
    args: [inp('x', ['B', 'T*P']), inp('w', ['D', 'P']), inp('b', ['D']), out('e', ['B', 'T', 'D'])],
    via: { fn: 'linear', tensors: { x: 'x', w: 'w', b: 'b', y: 'e' }, dims: { N: 'B*T', K: 'P', M: 'D' } },
  },
  {
    name: 'patchEmbedBackward',
    args: [
      inp('de', ['B', 'T', 'D']), inp('x', ['B', 'T*P']), inp('w', ['D', 'P']),
      acc('dw', ['D', 'P']), acc('db', ['D']), acc('dx', ['B', 'T*P'], { optional: true }),
    ],
    via: {
      fn: 'linearBackward', tensors: { dy: 'de', x: 'x', w: 'w', dx: 'dx', dw: 'dw', db: 'db' }, dims: { N: 'B*T', K: 'P', M: 'D' },
    },
  },
  { name: 'startToken', args: [inp('e', ['B', 'T', 'D']), inp('token', ['D']), out('h', ['B', 'T+1', 'D'])], mayBeZero: ['T'] },
  {
    name: 'startTokenBackward',
    args: [inp('dh', ['B', 'T+1', 'D']), acc('de', ['B', 'T', 'D'], { optional: true }), acc('dtoken', ['D'], { optional: true })],
    mayBeZero: ['T'],
  },
  {
    name: 'rmsNorm',
    args: [inp('x', ['N', 'D']), inp('scale', ['D']), num('eps', { above: 0 }), out('y', ['N', 'D']), out('rstd', ['N'])],
  },
  {
    name: 'rmsNormBackward',
    args: [
      inp('dy', ['N', 'D']), inp('x', ['N', 'D']), inp('scale', ['D']), inp('rstd', ['N']),
      acc('dx', ['N', 'D']), acc('dscale', ['D'], { optional: true }),
    ],
  },
  {
    name: 'layerNorm',
    args: [
      inp('x', ['N', 'C']), inp('gamma', ['C']), inp('beta', ['C']), num('eps', { above: 0 }),
      out('y', ['N', 'C']), out('mean', ['N']), out('rstd', ['N']),
    ],
  },
  {
    name: 'layerNormBackward',
    args: [
      inp('dy', ['N', 'C']), inp('x', ['N', 'C']), inp('gamma', ['C']), inp('mean', ['N']), inp('rstd', ['N']),
      acc('dx', ['N', 'C']), acc('dgamma', ['C'], { optional: true }), acc('dbeta', ['C'], { optional: true }),
    ],
  },
  elementwise('relu', [inp('x', '...n'), out('y', '...n', { inPlaceWith: ['x'] })]),
  elementwise('reluBackward', [inp('dy', '...n'), inp('y', '...n'), out('dx', '...n', { inPlaceWith: ['dy', 'y'] })]),
  elementwise('gelu', [inp('x', '...n'), out('y', '...n', { inPlaceWith: ['x'] })]),
  elementwise('geluBackward', [inp('dy', '...n'), inp('x', '...n'), out('dx', '...n', { inPlaceWith: ['dy', 'x'] })]),
  elementwise('dropout', [inp('x', '...n'), out('y', '...n', { inPlaceWith: ['x'] }), DROP_P, key('key')]),
  elementwise('dropoutBackward', [inp('dy', '...n'), out('dx', '...n', { inPlaceWith: ['dy'] }), DROP_P, key('key')]),
  {
    name: 'ropeAttention',
    args: [
      inp('q', BSD), inp('k', BSD), inp('v', BSD), num('heads', { integer: true, min: 1, bind: 'H' }),
      out('out', BSD), out('lse', ['B', 'H', 'S']), DROPOUT, out('reserve', ['B', 'H', 'S', 'S'], { optional: true }),
    ],
    constraints: HEAD_RULES,
  },
  {
    name: 'ropeAttentionBackward',
    args: [
      inp('dout', BSD), inp('q', BSD), inp('k', BSD), inp('v', BSD), inp('out', BSD), inp('lse', ['B', 'H', 'S']),
      num('heads', { integer: true, min: 1, bind: 'H' }), acc('dq', BSD), acc('dk', BSD), acc('dv', BSD), DROPOUT,
      flag('overwrite'), inp('reserve', ['B', 'H', 'S', 'S'], { optional: true }),
    ],
    constraints: HEAD_RULES,
  },
  elementwise('add', [inp('a', '...n'), inp('b', '...n'), out('y', '...n', { inPlaceWith: ['a', 'b'] }), DROPOUT]),
  elementwise('accumulate', [inp('src', '...n'), acc('dst', '...n', { inPlaceWith: ['src'] }), num('alpha', { default: 1 })]),
  elementwise('scale', [inout('x', '...n'), num('s')]),
  { name: 'meanPool', args: [inp('h', ['B', 'S', 'D']), out('z', ['B', 'D'])] },
  { name: 'meanPoolBackward', args: [inp('dz', ['B', 'D']), acc('dh', ['B', 'S', 'D'])] },
  elementwise('gradReverse', [inp('dy', '...n'), acc('dx', '...n', { inPlaceWith: ['dy'] }), num('lambda', { min: 0 })]),

  // ---- losses ----
  {
    name: 'hrLoss',
    args: [
      inp('out', ['B', 2]), inp('hr', ['B'], { values: 'finite' }), inp('w', ['B'], { values: 'nonNegative' }),
      inp('group', ['B'], { values: { groupIds: 'G' } }), HR_OPTS,
      out('pred', ['B']), out('sampleLoss', ['B']), out('loss', [1]), out('groupLossSum', ['G']), out('groupCount', ['G']),
    ],
  },
  {
    name: 'hrLossBackward',
    args: [
      inp('out', ['B', 2]), inp('hr', ['B'], { values: 'finite' }), inp('w', ['B'], { values: 'nonNegative' }), HR_OPTS,
      acc('dout', ['B', 2]), num('scale'),
    ],
  },
  {
    name: 'nextPatchNll',
    args: [inp('params', ['B', 'S', '2*P']), inp('x', ['B', 'T*P'], { values: 'finite' }), LAPLACE_EPS, out('loss', [1])],
    constraints: [{ test: 'T <= S - 1', message: 'x has T = {T} patches but params has S = {S} tokens (need T ≤ S − 1)', protectsMemory: true }],
  },
  {
    name: 'nextPatchNllBackward',
    args: [
      inp('params', ['B', 'S', '2*P']), inp('x', ['B', 'T*P'], { values: 'finite' }), LAPLACE_EPS,
      acc('dparams', ['B', 'S', '2*P']), num('scale'),
    ],
    constraints: [{ test: 'T <= S - 1', message: 'x has T = {T} patches but params has S = {S} tokens (need T ≤ S − 1)', protectsMemory: true }],
  },
  { name: 'bceWithLogits', args: [inp('logits', ['N', 'C']), inp('targets', ['N', 'C'], { values: 'unit' }), out('loss', [1])] },
  {
    name: 'bceWithLogitsBackward',
    args: [inp('logits', ['N', 'C']), inp('targets', ['N', 'C'], { values: 'unit' }), acc('dlogits', ['N', 'C']), num('scale')],
  },

  {
    name: 'softmaxCrossEntropy',
    args: [inp('logits', ['N', 'C']), inp('targets', ['N', 'C'], { values: 'unit' }), out('loss', [1])],
  },
  {
    name: 'softmaxCrossEntropyBackward',
    args: [inp('logits', ['N', 'C']), inp('targets', ['N', 'C'], { values: 'unit' }), acc('dlogits', ['N', 'C']), num('scale')],
  },

  // Class targets from group ids already on the device (ADV's adversary): no upload of a one-hot matrix.
  { name: 'oneHot', args: [inp('ids', ['B'], { values: { groupIds: 'G' } }), out('out', ['B', 'G'])] },

  // ---- fairness and optimisation ----
  {
    name: 'groupDroUpdate',
    args: [
      inout('q', ['G'], { values: 'weights' }), inp('groupLossSum', ['G'], { values: 'finite' }),
      inp('groupCount', ['G'], { values: 'counts' }), num('eta', { min: 0 }),
      inp('group', ['B'], { values: { groupIds: 'G' } }), out('w', ['B']),
    ],
    idsCounted: { ids: 'group', counts: 'groupCount' },
  },
  {
    name: 'groupLossReweight',
    args: [
      inp('groupLossSum', ['G'], { values: 'finite' }), inp('groupCount', ['G'], { values: 'counts' }), num('eta', { min: 0 }),
      inp('group', ['B'], { values: { groupIds: 'G' } }), inout('gw', ['G'], { values: 'weights' }), out('w', ['B']),
    ],
    idsCounted: { ids: 'group', counts: 'groupCount' },
  },
  elementwise('adamw', [
    inout('param', '...n'), inp('grad', '...n'), inout('m', '...n'), inout('v', '...n'),
    {
      kind: 'options', name: 'opts', fields: [
        num('lr', { min: 0 }), num('beta1', { min: 0, below: 1 }), num('beta2', { min: 0, below: 1 }), num('eps', { above: 0 }),
        num('weightDecay', { min: 0 }), num('step', { integer: true, min: 1 }), num('gradScale', { above: 0, default: 1 }),
        num('maxNorm', { min: 0, default: 0 }),
      ],
    },
    // The global gradient norm as globalNorm wrote it on the device: clipping without a read to the host.
    inp('norm', [1], { optional: true }),
  ]),
  { name: 'sumSquares', args: [{ kind: 'tensorList', name: 'tensors' }], returnsNumber: true },
  { name: 'globalNorm', args: [{ kind: 'tensorList', name: 'tensors' }, out('norm', [1])] },
] as const satisfies readonly OpSpec[];

export type OpName = (typeof OP_TABLE)[number]['name'];

const BY_NAME = new Map<string, OpSpec>(OP_TABLE.map((s) => [s.name, s]));

export function opSpec(name: string): OpSpec {
  const s = BY_NAME.get(name);
  if (s === undefined) throw new Error(`no op '${name}' in the op table`);
  return s;
}

export const OP_NAMES: readonly OpName[] = OP_TABLE.map((s) => s.name);
