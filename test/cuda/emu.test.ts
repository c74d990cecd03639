// The emulation lane itself: test/cuda/emu_test.cc (every kernels/cuda/*.cu compiled as C++ through
// cuda_emu.h) built with AddressSanitizer and run case by case, each with a timeout (a deadlock that the
// emulator failed to detect would otherwise hang the suite).
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

jest.setTimeout(360000);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fairtune-emu-'));
let binary = '';

beforeAll(() => {
  const out = execFileSync('sh', [path.join(__dirname, 'build-emu-test.sh'), dir], { encoding: 'utf8', timeout: 200000 });
  binary = out.trim().split('\n').pop() ?? '';
  expect(fs.existsSync(binary)).toBe(true);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// The timeout guards against a hang the emulator failed to report. Since CUDA threads became fibers the longest
// case (the 128×128 tensor-core GEMM in bf16, every thread order at one shape) takes about 5 s on a quiet 2-core
// machine; the guard is generous because CI runs this file beside others on those 2 cores.
function run(which: string, exe = binary): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(exe, [which], { encoding: 'utf8', timeout: 300000, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.each(['races', 'deadlock', 'orders', 'philox', 'rope_cache', 'gemm_gate', 'dq_order', 'planted', 'racecheck', 'determinism', 'threads', 'mma', 'gemm_tc', 'gemm_tc_large', 'gemm_tc_large_tf32', 'attn_tc'])('emulation case %s passes under ASan', (which) => {
  const r = run(which);
  if (r.status !== 0) throw new Error(`emu_test ${which} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  expect(r.stdout).toContain('0 failure(s)');
  expect(r.stdout).not.toContain('FAIL');
});

test('a removed __syncthreads is caught: the racy test kernel gives a wrong result', () => {
  const r = run('races');
  expect(r.stdout).toMatch(/^ok +neighbour_sum WITHOUT __syncthreads is caught/m);
  expect(r.stdout).toMatch(/^ok +two_phase WITHOUT its second __syncthreads is caught/m);
});

test('planted bugs are caught: a reduction without its trailing barrier, unwritten static shared memory, > 48 KB without the opt-in', () => {
  const r = run('planted');
  expect(r.stdout).toMatch(/^ok +block_sum WITHOUT its trailing __syncthreads is caught \(eager order\)/m);
  expect(r.stdout).toMatch(/^ok +a read of static __shared__ memory before any write is caught/m);
  expect(r.stdout).toMatch(/^ok +64 KB of dynamic shared memory without cudaFuncSetAttribute fails the launch/m);
});

test('a cross-block race is caught by the shadow write map: attention backward with dQ += instead of atomicAdd', () => {
  const r = run('racecheck');
  expect(r.stdout).toMatch(/^ok +attention backward \(dQ through atomicAdd\) passes the race check/m);
  expect(r.stdout).toMatch(/^ok +attention backward with dQ \+= instead of atomicAdd is caught: .*race: blocks \d+ and \d+ both wrote/m);
});

test('an out-of-bounds shared-memory index is reported by AddressSanitizer', () => {
  const r = run('oob');
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('heap-buffer-overflow');
  expect(r.stderr).toContain('out_of_bounds');
  expect(r.stdout).not.toContain('finished without a sanitizer report');
});

// The fiber switch has two implementations: a few instructions of x86-64 assembly (the build above, on this
// machine) and glibc's swapcontext, used on other architectures. The second is built here too, so that it is
// not code nobody runs: the scheduling cases, a deadlock, and warp-wide mma exchanges. (Under ASan it is slow:
// ASan's swapcontext interceptor clears the shadow of the target's stack at every switch.)
describe('the portable fiber switch (-DFTEMU_UCONTEXT)', () => {
  const ucDir = path.join(dir, 'ucontext');
  let ucBinary = '';
  beforeAll(() => {
    const out = execFileSync('sh', [path.join(__dirname, 'build-emu-test.sh'), ucDir, '-DFTEMU_UCONTEXT'], { encoding: 'utf8', timeout: 200000 });
    ucBinary = out.trim().split('\n').pop() ?? '';
    expect(fs.existsSync(ucBinary)).toBe(true);
  });
  test.each(['races', 'deadlock', 'orders', 'threads', 'mma'])('emulation case %s passes', (which) => {
    const r = run(which, ucBinary);
    if (r.status !== 0) throw new Error(`emu_test ${which} (ucontext) exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    expect(r.stdout).toContain('0 failure(s)');
    expect(r.stdout).not.toContain('FAIL');
  });
});
