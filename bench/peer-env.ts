// The environment a benchmark peer runs in. These machines set OPENBLAS_CORETYPE=Haswell (and
// OPENBLAS_L2_SIZE) because old OpenBLAS builds crash on some CPUs; a peer that inherits them runs OpenBLAS's
// AVX2 kernels on an AVX-512 CPU, and PyTorch with it. A peer is measured at its best, so both are removed in
// the peer's own process, and only there: the engine, the tests and CI keep the environment as it is.
export const PEER_HANDICAPS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/** process.env plus `extra`, without the variables that handicap a peer. */
export function peerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of PEER_HANDICAPS) delete env[k];
  return env;
}

/**
 * glibc malloc settings for the PyTorch peers: freed memory stays in the process. PyTorch frees and allocates
 * its multi-MiB activations every step; with glibc's defaults those blocks go back to the kernel (munmap, heap
 * trimming) and every step faults them in again, page by page. On these VMs that made PyTorch's 19m step 40%
 * slower (693-706 against 498-506 ms, torch 1 / OpenBLAS 2 threads, Zen 5); jemalloc with its defaults was
 * slower still (1569 ms). The settings are mallopt(3)'s environment variables; 32 MiB is the largest mmap
 * threshold glibc accepts on 64-bit. The engine needs none of this: its buffers are planned before the first step.
 */
export const KEEP_FREED_MEMORY: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(32 * 2 ** 20),
  MALLOC_TRIM_THRESHOLD_: String(4 * 2 ** 30),
  MALLOC_TOP_PAD_: String(256 * 2 ** 20),
};

/** Which of them this run's environment set, for the record (the peers ran without them). */
export function handicapsSet(): string {
  const set = PEER_HANDICAPS.filter((k) => process.env[k] !== undefined);
  return set.length > 0 ? `${set.join(' and ')} set` : 'neither variable set';
}

/** The Debian package that brings each peer, named when one is missing. */
export const PEER_PACKAGES: Record<string, string> = {
  'OpenBLAS sgemm': 'libopenblas-dev',
  'oneDNN sgemm': 'libdnnl-dev',
  'PyTorch': 'python3-torch',
};
