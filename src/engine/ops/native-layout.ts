// The positional signature of each op's native function, derived from its op-table entry, for both sides
// of the call: the TypeScript backend that builds the argument list and the generator of the C++ glue that
// reads it. The order is the Backend method's tensors and scalars (options objects flattened field by
// field, dropout keys as seed, step, site; a scalar that binds a symbol travels as that dim), then the dims.
import type { Tensor } from '../tensor';
import { evalExpr, symbolsOf } from './dim-expr';
import type { NumberSpec, OpSpec, TensorSpec } from './op-spec';
import { OP_TABLE, opSpec } from './op-table';

/** An op function of an addon: positional arguments as the op table lays them out (nativeParams). */
export type NativeOpFunction = (...args: unknown[]) => unknown;

export type NativeParam =
  | { kind: 'tensor'; name: string; spec: TensorSpec; arg: number }
  | { kind: 'tensorList'; name: string; arg: number }
  /** path: where the value sits in the method's arguments ([arg] or [arg, field] or [arg, field, keyPart]). */
  | { kind: 'scalar'; name: string; spec: NumberSpec; path: readonly (number | string)[] }
  | { kind: 'dim'; name: string; mayBeZero: boolean };

const KEY_PARTS: readonly [string, NumberSpec][] = [
  ['seed', { kind: 'number', name: 'seed', integer: true, min: 0, max: Number.MAX_SAFE_INTEGER }],
  ['step', { kind: 'number', name: 'step', integer: true, min: 0, max: 4294967295 }],
  ['site', { kind: 'number', name: 'site', integer: true, min: 0, max: 4294967295 }],
];

/** The shape symbols of an op in order of first appearance (its native dims). */
export function opSymbols(spec: OpSpec): string[] {
  const out: string[] = [];
  const add = (s: string) => {
    if (!out.includes(s)) out.push(s);
  };
  for (const a of spec.args) {
    if (a.kind === 'tensor') {
      if (typeof a.shape === 'string') add(a.shape.slice(3));
      else for (const d of a.shape) if (typeof d === 'string') symbolsOf(d).forEach(add);
    }
    if (a.kind === 'number' && a.bind !== undefined) add(a.bind);
  }
  return out;
}

/** The ops that have a native function of their own (the others run through another's: patchEmbed → linear). */
export const NATIVE_OPS: readonly OpSpec[] = OP_TABLE.filter((s: OpSpec) => s.via === undefined);

export function nativeParams(spec: OpSpec): NativeParam[] {
  const params: NativeParam[] = [];
  spec.args.forEach((a, i) => {
    switch (a.kind) {
      case 'tensor':
        params.push({ kind: 'tensor', name: a.name, spec: a, arg: i });
        break;
      case 'tensorList':
        params.push({ kind: 'tensorList', name: a.name, arg: i });
        break;
      case 'number':
        if (a.bind === undefined) params.push({ kind: 'scalar', name: a.nativeName ?? a.name, spec: a, path: [i] });
        break;
      case 'flag':
        params.push({ kind: 'scalar', name: a.name, spec: { kind: 'number', name: a.name, integer: true, min: 0, max: 1 }, path: [i] });
        break;
      case 'dropoutKey':
        for (const [part, s] of KEY_PARTS) params.push({ kind: 'scalar', name: part, spec: s, path: [i, part] });
        break;
      case 'options':
        for (const f of a.fields) {
          if (f.kind === 'dropoutKey') {
            for (const [part, s] of KEY_PARTS) params.push({ kind: 'scalar', name: part, spec: s, path: [i, f.name, part] });
          } else {
            params.push({ kind: 'scalar', name: f.nativeName ?? f.name, spec: f, path: [i, f.name] });
          }
        }
        break;
    }
  });
  for (const s of opSymbols(spec)) {
    params.push({ kind: 'dim', name: s, mayBeZero: (spec.mayBeZero ?? []).includes(s) && spec.noopWhenZero !== s });
  }
  return params;
}

function scalarAt(args: readonly unknown[], path: readonly (number | string)[], spec: NumberSpec): number {
  let v: unknown = args[path[0] as number];
  for (const k of path.slice(1)) v = v === undefined || v === null ? undefined : (v as Record<string, unknown>)[k as string];
  // An absent optional options object (no attention dropout) sends zeros; a flag travels as 0 or 1.
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v === undefined ? (spec.default ?? 0) : (v as number);
}

const PARAMS = new Map<string, NativeParam[]>();
function paramsOf(spec: OpSpec): NativeParam[] {
  let p = PARAMS.get(spec.name);
  if (p === undefined) PARAMS.set(spec.name, (p = nativeParams(spec)));
  return p;
}

/**
 * The native function and its argument list for a checked call of `spec` (dims from checkCall); `view`
 * turns a tensor into what the addon takes (a Float32Array on the cpu, a device view on cuda).
 */
export function nativeCall<V>(
  spec: OpSpec, args: readonly unknown[], dims: Readonly<Record<string, number>>, view: (t: Tensor) => V,
): [string, unknown[]] {
  const route = spec.via;
  const target = route === undefined ? spec : opSpec(route.fn);
  const argIndex = (name: string) => spec.args.findIndex((a) => a.name === name);
  const out: unknown[] = [];
  for (const p of paramsOf(target)) {
    switch (p.kind) {
      case 'tensor': {
        const t = args[route === undefined ? p.arg : argIndex(route.tensors[p.name])] as Tensor | null | undefined;
        out.push(t === null || t === undefined ? null : view(t));
        break;
      }
      case 'tensorList':
        out.push((args[p.arg] as readonly Tensor[]).filter((t) => t.size > 0).map(view));
        break;
      case 'scalar': {
        // A routed op's scalars are found by name among its own arguments (absent: the default).
        const at = route === undefined ? (p.path[0] as number) : argIndex(target.args[p.path[0] as number].name);
        out.push(at < 0 ? (p.spec.default ?? 0) : scalarAt(args, [at, ...p.path.slice(1)], p.spec));
        break;
      }
      case 'dim':
        // A routed op's dims are expressions of its own symbols (patchEmbed's N is B*T).
        out.push(route === undefined ? dims[p.name] : evalExpr(route.dims[p.name], dims));
        break;
    }
  }
  return [target.name, out];
}

/** The names of the op functions every native addon exports. */
export const NATIVE_OP_FUNCTIONS: readonly string[] = NATIVE_OPS.map((s) => s.name);
