// Peers at their best: a peer's process runs without the variables that force OpenBLAS's AVX2 kernels (and
// only the peer's: this process keeps them), PyTorch keeps the memory it frees, and BENCHMARKS.md is not
// regenerated while a peer is missing.
import { refuseWithoutPeers } from '../../bench/main';
import { spawnSync } from 'child_process';
import { handicapsSet, KEEP_FREED_MEMORY, PEER_HANDICAPS, peerEnv } from '../../bench/peer-env';
import { PYTHON, torchPeerEnv } from '../../bench/python-peer';
import { roundsNote } from '../../bench/suites/util';

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

test('a PyTorch peer runs with glibc malloc keeping freed memory: a step-like alloc/free loop stops faulting pages', () => {
  // Four 8 MiB blocks allocated, touched and freed per iteration, as a training step does with its activations.
  // With glibc's defaults the freed heap top is trimmed back to the kernel and every iteration faults it in again;
  // under the peer's settings the memory stays and later iterations fault nothing.
  const script = [
    'import ctypes, resource',
    'libc = ctypes.CDLL(None)',
    'libc.malloc.restype = ctypes.c_void_p',
    'libc.free.argtypes = [ctypes.c_void_p]',
    'libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]',
    'def step():',
    '    ps = [libc.malloc(8 << 20) for _ in range(4)]',
    '    for p in ps: libc.memset(p, 1, 8 << 20)',
    '    for p in ps: libc.free(p)',
    'for _ in range(3): step()',
    'f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt',
    'for _ in range(10): step()',
    'print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 10)',
  ].join('\n');
  const faults = (env: NodeJS.ProcessEnv) => {
    const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', env, timeout: 60_000 });
    if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  const threads = { torch: 1, openblas: 2 };
  const env = torchPeerEnv(threads);
  for (const [k, v] of Object.entries(KEEP_FREED_MEMORY)) expect(env[k]).toBe(v);
  expect(env.OMP_NUM_THREADS).toBe('1');
  expect(env.OPENBLAS_NUM_THREADS).toBe('2');
  const plain = { ...process.env };
  for (const k of Object.keys(KEEP_FREED_MEMORY)) delete plain[k];
  expect(faults(plain)).toBeGreaterThan(1000);  // 8 MiB of 4 KiB pages is 2048 faults per block
  expect(faults(env)).toBeLessThan(50);
});

test("a figure taken over several turns shows each turn's time beside the median", () => {
  // PyTorch's 19m step read 829 ms in one turn and over 1100 in the next two: the median alone hid that.
  expect(roundsNote(3, [829.4, 1121, 1180.6])).toBe('; median of 3 turns (829, 1121, 1181 ms) taken alternately with the other sides');
  expect(roundsNote(3)).toBe('; median of 3 turns taken alternately with the other sides');
  expect(roundsNote(1, [900])).toBe('');
});
