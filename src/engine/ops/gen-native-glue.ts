// Generates native/generated/op_glue.h, the N-API glue of every native op for both addons, from the op
// table: one parameter struct and one entry point per op, which reads the arguments in the order
// native-layout.ts gives, checks what protects memory and calls run(a, params), the kernel each addon
// defines once per op. `npm run gen:ops` rewrites the file; test/engine/op-glue.test.ts fails when the
// committed file differs from what the table generates (so CI catches a table edit without a regeneration).
import * as path from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write';
import { symbolsOf } from './dim-expr';
import { NATIVE_OPS, nativeParams, type NativeParam } from './native-layout';
import type { NumberSpec, OpSpec, TensorSpec } from './op-spec';

export const GLUE_PATH = path.join('native', 'generated', 'op_glue.h');

const MAX_SAFE = '9007199254740991LL';

const pascal = (s: string) => s[0].toUpperCase() + s.slice(1);

/** A dim expression as C++ over the int64_t locals of the same names. */
const cxx = (e: string | number) => (typeof e === 'number' ? String(e) : symbolsOf(e).length === 1 && /^\w+$/.test(e) ? e : `(${e})`);

function shapeDims(t: TensorSpec): string {
  if (typeof t.shape === 'string') return `{${t.shape.slice(3)}}`;
  return `{${t.shape.map(cxx).join(', ')}}`;
}

function readScalar(p: Extract<NativeParam, { kind: 'scalar' }>, i: number): string {
  const s: NumberSpec = p.spec;
  if (s.integer) {
    const lo = s.min ?? (s.above !== undefined ? s.above + 1 : undefined);
    const hi = s.max ?? (s.below !== undefined ? s.below - 1 : undefined);
    return `args_.integer(${i}, "${p.name}", ${lo === undefined ? `-${MAX_SAFE}` : `${lo}LL`}, ${hi === undefined ? MAX_SAFE : `${hi}LL`})`;
  }
  const lo = s.min ?? s.above, hi = s.max ?? s.below;
  return `args_.number_range(${i}, "${p.name}", ${lo === undefined ? '-HUGE_VAL' : lo}, ${s.above !== undefined}, ` +
    `${hi === undefined ? 'HUGE_VAL' : hi}, ${s.below !== undefined})`;
}

/** The C++ message of a failed constraint, with each {expression} filled from the dims. */
function constraintMessage(message: string): string {
  const parts = message.split(/\{([^}]+)\}/);
  return parts.map((s, i) => (i % 2 === 1 ? `std::to_string(${s})` : JSON.stringify(s))).filter((s) => s !== '""').join(' + ');
}

function signature(spec: OpSpec, params: readonly NativeParam[]): string {
  const args = params.map((p) => {
    if (p.kind === 'tensor') {
      const shape = typeof p.spec.shape === 'string' ? `[${p.spec.shape.slice(3)}]` : `[${p.spec.shape.join(',')}]`;
      return `${p.name}${shape}${p.spec.optional ? ' | null' : ''}`;
    }
    return p.kind === 'tensorList' ? `${p.name}[]` : p.name;
  });
  return `${spec.name}(${args.join(', ')})${spec.returnsNumber ? ' → number' : ''}`;
}

function structOf(spec: OpSpec, params: readonly NativeParam[]): string {
  const fields = params.map((p) => {
    if (p.kind === 'tensor') return `  F32 ${p.name};`;
    if (p.kind === 'tensorList') return `  std::vector<F32> ${p.name};`;
    if (p.kind === 'scalar') return `  ${p.spec.integer ? 'int64_t' : 'double'} ${p.name};`;
    return `  int64_t ${p.name};`;
  });
  return [
    `// ${signature(spec, params)}`,
    `struct ${pascal(spec.name)} {`,
    ...fields,
    '};',
    `${spec.returnsNumber ? 'double' : 'void'} run(Args& a, const ${pascal(spec.name)}& p);`,
  ].join('\n');
}

function entryOf(spec: OpSpec, params: readonly NativeParam[]): string {
  const body: string[] = [`  Args args_(info_, "${spec.name}", ${params.length});`];
  params.forEach((p, i) => {
    if (p.kind === 'dim') body.push(`  const int64_t ${p.name} = args_.${p.mayBeZero ? 'count' : 'dim'}(${i}, "${p.name}");`);
  });
  for (const c of (spec.constraints ?? []).filter((c) => c.protectsMemory)) {
    body.push(`  if (!(${c.test})) args_.fail(${constraintMessage(c.message)});`);
  }
  params.forEach((p, i) => {
    if (p.kind === 'tensor') {
      body.push(`  const F32 ${p.name} = Dev::tensor(args_, info_, ${i}, "${p.name}", ${shapeDims(p.spec)}, ${Boolean(p.spec.optional)});`);
    } else if (p.kind === 'tensorList') {
      body.push(`  std::vector<F32> ${p.name} = Dev::tensor_list(args_, info_, ${i}, "${p.name}");`);
    } else if (p.kind === 'scalar') {
      body.push(`  const ${p.spec.integer ? 'int64_t' : 'double'} ${p.name} = ${readScalar(p, i)};`);
    }
  });
  const tensors = params.filter((p): p is Extract<NativeParam, { kind: 'tensor' }> => p.kind === 'tensor');
  tensors.forEach((o, i) => {
    if (o.spec.role === 'in') return;
    tensors.forEach((t, j) => {
      if (i === j || (t.spec.role !== 'in' && j < i)) return;
      const inPlace = o.spec.inPlaceWith?.includes(t.name) || t.spec.inPlaceWith?.includes(o.name);
      body.push(`  args_.${inPlace ? 'same_or_disjoint' : 'disjoint'}(${o.name}, ${t.name});`);
    });
  });
  for (const r of spec.needsFlag ?? []) body.push(`  if (${r.tensor} && !${r.flag}) args_.fail(${JSON.stringify(r.message)});`);
  for (const r of spec.factorNeedsTensor ?? []) {
    body.push(`  if (${r.number} != 1.0 && !${r.tensor}) args_.fail(${JSON.stringify(r.message)});`);
  }
  for (const t of tensors) {
    const rule = t.spec.values;
    if (typeof rule === 'object') body.push(`  Dev::group_ids(args_, ${t.name}, ${rule.groupIds});`);
  }
  const names = params.map((p) => (p.kind === 'tensorList' ? `std::move(${p.name})` : p.name));
  body.push(`  const ${pascal(spec.name)} params_{${names.join(', ')}};`);
  body.push(spec.returnsNumber
    ? '  const double result_ = run(args_, params_);\n  Dev::finish(args_);\n  return Napi::Number::New(args_.env(), result_);'
    : '  run(args_, params_);\n  Dev::finish(args_);\n  return args_.env().Undefined();');
  return [`template <class Dev>`, `Napi::Value ${spec.name}(const Napi::CallbackInfo& info_) {`, ...body, '}'].join('\n');
}

/** The whole generated header. */
export function generateGlue(): string {
  const ops = NATIVE_OPS.map((s) => [s, nativeParams(s)] as const);
  return [
    '// GENERATED from the op table (src/engine/ops/op-table.ts) by src/engine/ops/gen-native-glue.ts: do not edit.',
    '// Regenerate with `npm run gen:ops`; test/engine/op-glue.test.ts fails when this file is out of date.',
    '//',
    '// Per op: a parameter struct, the run() each addon defines with its kernels, and the N-API entry point,',
    '// which reads the arguments in the order of src/engine/ops/native-layout.ts and checks only what protects',
    '// memory: argument count and types, dims, each array against its dims, outputs overlapping inputs, the',
    '// constraints the table marks protectsMemory, and group ids that index arrays. The TypeScript side has',
    '// already run every check of the table; these hold for a direct call of the addon. Dev reads a tensor',
    '// argument (a Float32Array on the cpu addon, a device view on the cuda addons) and finishes a call (the',
    '// cuda addons turn a failed launch into an error there).',
    '#pragma once',
    '#include <napi.h>',
    '',
    '#include <cmath>',
    '#include <cstdint>',
    '#include <string>',
    '#include <utility>',
    '#include <vector>',
    '',
    '#include "../args.h"',
    '',
    'namespace ftn {',
    'namespace ops {',
    '',
    ops.map(([s, p]) => structOf(s, p)).join('\n\n'),
    '',
    '}  // namespace ops',
    '',
    'namespace glue {',
    'using namespace ops;',
    '',
    ops.map(([s, p]) => entryOf(s, p)).join('\n\n'),
    '',
    '}  // namespace glue',
    '',
    '// Exports every op of the table.',
    'template <class Dev>',
    'void register_ops(Napi::Env env, Napi::Object exports) {',
    ...ops.map(([s]) => `  exports.Set("${s.name}", Napi::Function::New(env, glue::${s.name}<Dev>, "${s.name}"));`),
    '}',
    '',
    '}  // namespace ftn',
    '',
  ].join('\n');
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..', '..', '..', '..');
  writeFileAtomic(path.join(root, GLUE_PATH), generateGlue());
  console.log(`wrote ${GLUE_PATH}`);
}
