// The backend-conformance suite: every case of cases.ts on every lane of a backend, against the reference
// backend (float64 accumulation), plus a model-level case (a whole block's forward and backward at 19m
// width) and the shared bad-input table. Each backend's test file calls conformanceSuite once.
import type { Backend } from '../../src/engine/backend';
import { ReferenceBackend } from '../../src/engine/reference/backend';
import type { Tensor } from '../../src/engine/tensor';
import { modelConfig } from '../../src/model/config';
import { minMaxScaleWindows } from '../../src/model/input';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { HrTrace, traceStep } from '../../src/trace/hr-trace';
import { randomWindows } from '../../src/data/synth/random-windows';
import { Rng } from '../../src/util/random';
import { BAD_INPUT_CASES, errorOf } from './bad-input';
import { OP_CASES, OpCase } from './cases';
import { maxAbs, maxAbsDiff, mismatch, scalarMismatch } from './compare';
import type { Lane } from './lanes';

const ref = new ReferenceBackend();

/** The case's tensors as host data, the same on every run (seeded by the case). */
function caseData(c: OpCase): Record<string, Float32Array> {
  // An inline LCG rather than a generator closure: the 1b cases fill tens of millions of values.
  let state = (c.seed * 2654435761) >>> 0;
  const out: Record<string, Float32Array> = {};
  for (const [name, s] of Object.entries(c.tensors)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    if (s.values) for (let i = 0; i < n; i++) a[i] = s.values(i);
    else if (s.fill !== undefined) a.fill(s.fill);
    else {
      const lo = s.lo ?? -1, span = (s.hi ?? 1) - lo;
      for (let i = 0; i < n; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        a[i] = lo + span * (state / 4294967296);
      }
    }
    out[name] = a;
  }
  return out;
}

/** A tensor holding `data`: fresh, or a view at an odd element offset into a larger buffer. */
function place(be: Backend, shape: number[], data: Float32Array, offset: boolean): Tensor {
  if (!offset || data.length === 0) return be.tensor(shape, data);
  const pad = 3;
  const big = be.tensor([data.length + 2 * pad], new Float32Array(data.length + 2 * pad).fill(-99));
  const slice = be.slice0(big, pad, data.length);
  be.upload(slice, data);
  return be.view(slice, shape);
}

interface Result {
  tensors: Record<string, Float32Array>;
  scalar: number | undefined;
}

function runCase(be: Backend, c: OpCase, data: Record<string, Float32Array>, offset: boolean): Result {
  const t: Record<string, Tensor> = {};
  for (const [name, s] of Object.entries(c.tensors)) t[name] = place(be, s.shape, data[name], offset);
  const r = c.run(be, t);
  const tensors: Record<string, Float32Array> = {};
  for (const name of Object.keys(c.compare)) tensors[name] = be.download(t[name]);
  for (const x of Object.values(t)) be.dispose(x);
  return { tensors, scalar: typeof r === 'number' ? r : undefined };
}

/** Every problem of the lane's result, one line each (empty: it conforms). */
function differences(lane: Lane, c: OpCase, got: Result, want: Result): string[] {
  const bad: string[] = [];
  for (const [name, fp32] of Object.entries(c.compare)) {
    const m = mismatch(got.tensors[name], want.tensors[name], lane.rtol(c, fp32));
    if (m !== null) bad.push(`${name}: ${m}`);
  }
  if (want.scalar !== undefined) {
    const m = got.scalar === undefined ? 'no scalar returned' : scalarMismatch(got.scalar, want.scalar, c.scalarRtol ?? 1e-4);
    if (m !== null) bad.push(`result: ${m}`);
  }
  return bad;
}

/** One HR step of a one-block model of 19m width on `be` (B = 2, T = 3; dropout is off in a trace). */
function blockStep(be: Backend): HrTrace {
  const config = modelConfig('19m', { layers: 1, hrPatches: 3 });
  const model = new PpgGpt(be, config, { next: false, hr: true });
  model.store.initialise(config, 11);
  const rng = new Rng(12), B = 2, L = config.hrPatches * config.patch;
  const x = minMaxScaleWindows(randomWindows(rng, B, L), L);
  const y = rng.fillUniform(new Float32Array(B), 45, 175);
  const w = rng.fillUniform(new Float32Array(B), 0.5, 1.5);
  return traceStep(model, x, y, w);
}

/** The op and the first argument a reference error names ("hrLoss: w [2] sums to 0" → hrLoss, w). */
function essence(message: string): { op: string; arg: string } {
  const m = /^(\w+): (\w+)/.exec(message);
  if (!m) throw new Error(`the reference's message does not start with "op: argument": ${message}`);
  return { op: m[1], arg: m[2] };
}

export function conformanceSuite(lanes: Lane[]): void {
  afterAll(() => lanes.forEach((l) => l.dispose()));
  const laneRows = lanes.map((l) => [l.label, l] as const);

  /** Runs `fn` with the lane in its mode (ISA, compute mode, schedule), restoring the default after. */
  function inLane<T>(lane: Lane, fn: () => T): T {
    lane.setup();
    try {
      return fn();
    } finally {
      lane.teardown();
    }
  }

  // Case outside, lanes inside: a case's data and the reference's answer are made once and shared by every
  // lane (at the 1b shapes they are the bulk of the time).
  const cases = OP_CASES.filter((c) => lanes.some((l) => l.runs(c)));
  describe.each(cases.map((c) => [`${c.op} ${c.label}`, c] as const))('%s', (_name, c) => {
    let data: Record<string, Float32Array> | null = null, want: Result | null = null;
    afterAll(() => {
      data = want = null;
    });
    const rows = laneRows.filter(([, lane]) => lane.runs(c));
    test.each(rows)('%s', (_label, lane) => {
      const be = lane.get(), input = (data ??= caseData(c));
      const refusal = lane.refuses(c);
      if (refusal) {
        expect(() => inLane(lane, () => runCase(be, c, input, lane.offsets))).toThrow(refusal);
        return;
      }
      const got = inLane(lane, () => runCase(be, c, input, lane.offsets));
      want ??= runCase(ref, c, input, false);
      expect(differences(lane, c, got, want)).toEqual([]);
    });
  });

  describe('a whole block forward and backward at 19m width (D = 512, 8 heads, one layer) matches the reference', () => {
    let refBlock: HrTrace | null = null;
    test.each(laneRows.filter(([, l]) => l.blockStep))('%s', (_label, lane) => {
      const got = inLane(lane, () => blockStep(lane.get()));
      refBlock ??= blockStep(ref);
      // ReLU units within float32 rounding of zero may fall on either side: none do for this seed, and the
      // masks must agree before the gradients mean anything.
      for (const [name, m] of Object.entries(refBlock.masks)) {
        const flips = got.masks[name].data.reduce((n, v, i) => n + (v !== m.data[i] ? 1 : 0), 0);
        expect([name, flips]).toEqual([name, 0]);
      }
      const bad: string[] = [];
      for (const [name, t] of Object.entries(refBlock.tensors)) {
        const err = maxAbsDiff(got.tensors[name].data, t.data), scale = maxAbs(t.data);
        if (!(err <= 1e-4 * scale)) bad.push(`${name}: max|err| ${err} over 1e-4 × max|ref| ${scale}`);
      }
      expect(bad).toEqual([]);
    });
  });

  // The checks that guard the TypeScript side are shared (src/engine/op-checks.ts), so their messages are
  // the reference's word for word; value checks of data on a device run natively there and word it their
  // own way, but must refuse the same call, naming the same op and argument.
  describe.each(BAD_INPUT_CASES.map((b) => [b[0], b[1]] as const))('rejects bad input like the reference: %s', (_name, call) => {
    test.each(laneRows)('%s', (_label, lane) => {
      const want = errorOf(() => call(ref));
      expect(want).not.toBe('no error');
      const got = errorOf(() => call(lane.get()));
      if (got === want) return;
      const { op, arg } = essence(want);
      expect(got).toMatch(new RegExp(`\\b${op}\\b`));
      expect(got).toMatch(new RegExp(`\\b${arg}\\b`));
    });
  });
}
