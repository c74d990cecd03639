// The harness notices wrong values: Dawn's null backend accepts every command but computes nothing, so an op
// run there must be reported as a mismatch by the same comparison the op tests use. (A backend that cannot
// compute must never pass for one that does.)
import { hostData } from '../../src/engine/host-storage';
import { mismatch, randomArray, ref, rng, useWebGpu } from './helpers';

const nullGpu = useWebGpu({ createOptions: ['backend=null'] });

test('a linear layer run on the null adapter is flagged as a mismatch', () => {
  const g = nullGpu();
  expect(g.description).toContain('backend=null');
  const rand = rng(1), N = 5, K = 7, M = 3;
  const x = randomArray(N * K, rand), w = randomArray(M * K, rand), b = randomArray(M, rand);
  const y = g.tensor([N, M]);
  g.linear(g.tensor([N, K], x), g.tensor([M, K], w), g.tensor([M], b), y);
  const want = ref.tensor([N, M]);
  ref.linear(ref.tensor([N, K], x), ref.tensor([M, K], w), ref.tensor([M], b), want);
  expect(mismatch(g.download(y), hostData(want))).toMatch(/differs/);
});
