// The vocabulary of the op table (./op-table.ts): what one op declares about its arguments. From these
// declarations the engine derives the argument checks of every backend (./check-call.ts), the order of the
// native call (./native-call.ts), the addons' function lists, the generated C++ glue of both addons
// (./gen-native-glue.ts) and the bad-input test cases (test/engine/op-table-bad-input.test.ts).

/** How an op uses a tensor: read, overwritten, added into (backward ops), or read and written in place. */
export type Role = 'in' | 'out' | 'acc' | 'inout';

/**
 * A shape: dims that are integers, symbols bound on first use ('N'), or expressions of symbols ('T+1',
 * '2*P'; see ./dim-expr.ts); or '...n': any shape, every '...n' tensor of the op the same, n its size.
 */
export type ShapeSpec = readonly (string | number)[] | `...${string}`;

/**
 * Checks on a tensor's values (only where a wrong value is a silently wrong answer or an out-of-bounds index):
 * finite; unit: finite in [0, 1]; nonNegative: finite, ≥ 0; weights: finite, ≥ 0, Σ > 0; counts: non-negative integers;
 * groupIds: integers in [0, G) for the symbol named.
 */
export type ValueRule = 'finite' | 'unit' | 'nonNegative' | 'weights' | 'counts' | { groupIds: string };

export interface TensorSpec {
  kind: 'tensor';
  name: string;
  shape: ShapeSpec;
  role: Role;
  /** May be null: not wanted (a gradient) or absent (a bias). */
  optional?: boolean;
  values?: ValueRule;
  /** Inputs this output may be the very same tensor as (elementwise ops run in place). */
  inPlaceWith?: readonly string[];
}

export interface NumberSpec {
  kind: 'number';
  name: string;
  integer?: boolean;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  above?: number;
  below?: number;
  /** The value is also this shape symbol (heads is H). */
  bind?: string;
  /** Value when the argument is left out (JavaScript default parameter). */
  default?: number;
  /** Sent to the native call under this name (options fields: opts.lambda → lambda). */
  nativeName?: string;
}

/** A Philox dropout key {seed, step, site}: natively three integers. */
export interface KeySpec {
  kind: 'dropoutKey';
  name: string;
}

/** An options object whose fields are scalars; natively the fields in order (zeros when an optional one is absent). */
export interface OptionsSpec {
  kind: 'options';
  name: string;
  fields: readonly (NumberSpec | KeySpec)[];
  optional?: boolean;
}

/** A boolean option (default false); natively the integer 0 or 1. */
export interface FlagSpec {
  kind: 'flag';
  name: string;
}

/** An array of tensors of any shapes (sumSquares). */
export interface TensorListSpec {
  kind: 'tensorList';
  name: string;
}

export type ArgSpec = TensorSpec | NumberSpec | KeySpec | OptionsSpec | FlagSpec | TensorListSpec;

export interface Constraint {
  /** A dim expression that must be non-zero. */
  test: string;
  /** The error message; each {expression} of symbols is replaced by its value ({D/H}). */
  message: string;
  /** Also checked by the native glue, because a kernel would read or write out of bounds without it. */
  protectsMemory?: boolean;
}

export interface NativeRoute {
  /** The addon function that runs this op (default: the op's own name). */
  fn: string;
  /** That function's tensor arguments, each the name of one of this op's tensors. */
  tensors: Readonly<Record<string, string>>;
  /** That function's dims as expressions of this op's symbols. */
  dims: Readonly<Record<string, string>>;
}

export interface OpSpec {
  name: string;
  /** Argument order is the Backend method's. */
  args: readonly ArgSpec[];
  /** Symbols that may be 0 (default: every symbol must be at least 1). */
  mayBeZero?: readonly string[];
  /** When this symbol is 0 the op has nothing to do and no kernel runs. */
  noopWhenZero?: string;
  constraints?: readonly Constraint[];
  /** An optional tensor that may only be given together with a flag (a fused epilogue that needs it). */
  needsFlag?: readonly { tensor: string; flag: string; message: string }[];
  /** A number that may differ from 1 only together with an optional tensor (a factor of the epilogue that tensor gates). */
  factorNeedsTensor?: readonly { number: string; tensor: string; message: string }[];
  /** Every id in tensor `ids` has a positive count in tensor `counts` (GroupDRO divides by it). */
  idsCounted?: { ids: string; counts: string };
  /** Runs through another op's native function (patchEmbed is a linear over [B·T, P]). */
  via?: NativeRoute;
  /** The op returns a host number (sumSquares). */
  returnsNumber?: boolean;
}

// ---- small constructors that keep the table readable ----

export const inp = (name: string, shape: ShapeSpec, extra: Partial<TensorSpec> = {}): TensorSpec =>
  ({ kind: 'tensor', name, shape, role: 'in', ...extra });
export const out = (name: string, shape: ShapeSpec, extra: Partial<TensorSpec> = {}): TensorSpec =>
  ({ kind: 'tensor', name, shape, role: 'out', ...extra });
export const acc = (name: string, shape: ShapeSpec, extra: Partial<TensorSpec> = {}): TensorSpec =>
  ({ kind: 'tensor', name, shape, role: 'acc', ...extra });
export const inout = (name: string, shape: ShapeSpec, extra: Partial<TensorSpec> = {}): TensorSpec =>
  ({ kind: 'tensor', name, shape, role: 'inout', ...extra });
export const num = (name: string, extra: Partial<NumberSpec> = {}): NumberSpec => ({ kind: 'number', name, ...extra });
export const key = (name: string): KeySpec => ({ kind: 'dropoutKey', name });
export const flag = (name: string): FlagSpec => ({ kind: 'flag', name });

export const isTensor = (a: ArgSpec): a is TensorSpec => a.kind === 'tensor';
export const isOutput = (t: TensorSpec): boolean => t.role !== 'in';
