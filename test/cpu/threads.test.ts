// Results must not depend on the thread count: GEMM tiles partition the output (each element sums its k
// terms in the same order), reductions use fixed blocks. One thread and two must agree bit for bit.
import { hostData } from '../../src/engine/host-storage';
import { cpu, randomArray, rng } from './helpers';

const threads = cpu.info().threads;
afterAll(() => cpu.setThreads(threads));

function runAll(nThreads: number): Float32Array[] {
  cpu.setThreads(nThreads);
  const rand = rng(42);
  const N = 130, K = 300, M = 600;
  const x = cpu.tensor([N, K], randomArray(N * K, rand)), w = cpu.tensor([M, K], randomArray(M * K, rand));
  const b = cpu.tensor([M], randomArray(M, rand)), y = cpu.tensor([N, M]);
  cpu.linear(x, w, b, y);
  const dy = cpu.tensor([N, M], randomArray(N * M, rand));
  const dx = cpu.tensor([N, K]), dw = cpu.tensor([M, K]), db = cpu.tensor([M]);
  cpu.linearBackward(dy, x, w, dx, dw, db);
  const ln = cpu.tensor([N, M]), mean = cpu.tensor([N]), rstd = cpu.tensor([N]);
  cpu.layerNorm(y, b, b, 1e-5, ln, mean, rstd);
  const dg = cpu.tensor([M]);
  cpu.layerNormBackward(dy, y, b, mean, rstd, cpu.tensor([N, M]), dg, null);
  const ss = new Float32Array([cpu.sumSquares([y, dw])]);
  return [y, dx, dw, db, ln, dg].map((t) => hostData(t).slice()).concat([ss]);
}

test('one thread and two threads give identical results', () => {
  const one = runAll(1);
  const two = runAll(2);
  one.forEach((a, i) => expect(Buffer.from(two[i].buffer).equals(Buffer.from(a.buffer))).toBe(true));
});
