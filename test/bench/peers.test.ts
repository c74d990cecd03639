// Peers at their best: a peer's process runs without the variables that force OpenBLAS's AVX2 kernels (and
// only the peer's: this process keeps them), and BENCHMARKS.md is not regenerated while a peer is missing.
import { refuseWithoutPeers } from '../../bench/main';
import { handicapsSet, PEER_HANDICAPS, peerEnv } from '../../bench/peer-env';

test('a peer runs without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, with its own settings, and this process keeps them', () => {
  const saved = PEER_HANDICAPS.map((k) => process.env[k]);
  try {
    process.env.OPENBLAS_CORETYPE = 'Haswell';
    process.env.OPENBLAS_L2_SIZE = '1048576';
    const env = peerEnv({ OPENBLAS_NUM_THREADS: '2' });
    expect(env.OPENBLAS_CORETYPE).toBeUndefined();
    expect(env.OPENBLAS_L2_SIZE).toBeUndefined();
    expect(env.OPENBLAS_NUM_THREADS).toBe('2');
    expect(env.PATH).toBe(process.env.PATH);
    expect(process.env.OPENBLAS_CORETYPE).toBe('Haswell');
    expect(handicapsSet()).toBe('OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE set');
  } finally {
    PEER_HANDICAPS.forEach((k, i) => (saved[i] === undefined ? delete process.env[k] : (process.env[k] = saved[i])));
  }
});

test('BENCHMARKS.md is not written while a peer is missing, and the refusal names its package', () => {
  const missing = new Map([['oneDNN sgemm', 'onednn is not built into this binary']]);
  expect(() => refuseWithoutPeers('BENCHMARKS.md', missing, false)).toThrow(/not writing BENCHMARKS.md: peer\(s\) oneDNN sgemm .*package libdnnl-dev/);
  expect(() => refuseWithoutPeers('BENCHMARKS.md', missing, true)).not.toThrow();
  expect(() => refuseWithoutPeers('BENCHMARKS.md', new Map(), false)).not.toThrow();
});
