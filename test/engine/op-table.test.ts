// The op table is the single declaration of every op: the generated C++ glue must be what it generates
// now (CI fails on a table edit without `npm run gen:ops`), every Backend op must be in it, and its small
// expression language must mean in TypeScript what it means when pasted into C++.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ReferenceBackend } from '../../src/engine/reference/backend';
import { evalExpr, parseExpr, solveFor, symbolsOf } from '../../src/engine/ops/dim-expr';
import { GLUE_PATH, generateGlue } from '../../src/engine/ops/gen-native-glue';
import { NATIVE_OP_FUNCTIONS, nativeParams } from '../../src/engine/ops/native-layout';
import { OP_NAMES, OP_TABLE, opSpec } from '../../src/engine/ops/op-table';
import { NATIVE_FUNCTIONS } from '../../src/engine/cpu/native-api';
import { CUDA_FUNCTIONS } from '../../src/engine/cuda/native-api';

test('native/generated/op_glue.h is what the op table generates (run `npm run gen:ops` after editing the table)', () => {
  const committed = fs.readFileSync(path.join(__dirname, '..', '..', GLUE_PATH), 'utf8');
  expect(committed === generateGlue()).toBe(true);
});

test('every op of the table is a method of every backend, installed once from the table', () => {
  const be = new ReferenceBackend();
  for (const name of OP_NAMES) expect(typeof (be as unknown as Record<string, unknown>)[name]).toBe('function');
  expect(new Set(OP_NAMES).size).toBe(OP_TABLE.length);
});

test('both addons list every native op function, derived from the table', () => {
  for (const fn of NATIVE_OP_FUNCTIONS) {
    expect(NATIVE_FUNCTIONS).toContain(fn);
    expect(CUDA_FUNCTIONS).toContain(fn);
  }
  // patchEmbed runs through linear: no function of its own.
  expect(NATIVE_OP_FUNCTIONS).not.toContain('patchEmbed');
  expect(NATIVE_OP_FUNCTIONS).toContain('linear');
});

test('the native layout puts tensors and scalars in method order, then the dims', () => {
  const names = nativeParams(opSpec('ropeAttention')).map((p) => p.name);
  expect(names).toEqual(['q', 'k', 'v', 'out', 'lse', 'p', 'seed', 'step', 'site', 'reserve', 'B', 'S', 'D', 'H']);
  expect(nativeParams(opSpec('hrLoss')).map((p) => p.name).slice(4, 6)).toEqual(['lambda', 'eps']);
});

describe('dim expressions', () => {
  test('evaluate with C++ integer semantics', () => {
    const env = { D: 12, H: 5, T: 3, S: 4 };
    expect(evalExpr('D / H', env)).toBe(2);
    expect(evalExpr('D % H', env)).toBe(2);
    expect(evalExpr('(D / H) % 4 == 0', { D: 8, H: 2 })).toBe(1);
    expect(evalExpr('T <= S - 1', env)).toBe(1);
    expect(evalExpr('T + 1 < S && D > 0', env)).toBe(0);
    expect(evalExpr('2*3+4', {})).toBe(10);
  });

  test('solve a shape dim for its one unknown, or say none fits', () => {
    expect(solveFor('T+1', 5, {})).toEqual(['T', 4]);
    expect(solveFor('T*P', 12, { P: 4 })).toEqual(['T', 3]);
    expect(solveFor('2*P', 7, {})).toEqual(['P', NaN]);
    expect(solveFor('S-1', 3, {})).toEqual(['S', 4]);
    expect(solveFor('T*P', 12, {})).toBeNull();
  });

  test('name their symbols and refuse what C++ would read otherwise', () => {
    expect(symbolsOf('B*T + P')).toEqual(['B', 'T', 'P']);
    expect(() => parseExpr('D ** 2')).toThrow(/unexpected/);
    expect(() => parseExpr('D +')).toThrow(/ends early/);
    expect(() => parseExpr('1.5 * D')).toThrow(/unexpected/);
  });
});
