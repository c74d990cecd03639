// scripts/cuda-check.sh: nvcc compiles every kernel for sm_75, sm_80 and sm_90 with -Werror all-warnings,
// records ptxas registers/spills/shared memory per kernel and the PTX instruction mix (mma.sync, ldmatrix,
// cp.async, fp32 FMA) per kernel, and fails on GEMM or attention spills or a tensor-core kernel without mma. Runs
// where nvcc exists (this machine and CI); elsewhere the test says why it is skipped.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const nvcc = spawnSync('sh', ['-c', 'command -v ${NVCC:-nvcc}'], { encoding: 'utf8' }).stdout.trim();
const maybe = nvcc !== '' ? test : test.skip;
if (nvcc === '') console.warn('cuda-check skipped: nvcc not found');

maybe('every CUDA kernel compiles for sm_75/80/90 without warnings, and GEMM/attention do not spill', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fairtune-cuda-check-'));
  try {
    const out = execFileSync('sh', [path.join(__dirname, '..', '..', 'scripts', 'cuda-check.sh'), dir], {
      encoding: 'utf8', timeout: 400000,
    });
    expect(out).toContain('no GEMM/attention spills');
    const rows = fs.readFileSync(path.join(dir, 'ptxas.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    expect(rows[0]).toEqual(['arch', 'kernel', 'registers', 'spill_stores', 'spill_loads', 'stack_bytes', 'static_smem']);
    for (const arch of ['sm_75', 'sm_80', 'sm_90']) {
      const kernels = rows.filter((r) => r[0] === arch).map((r) => r[1]);
      for (const k of ['gemm_kernel', 'attn_forward_kernel<64>', 'attn_backward_kernel<64>', 'rms_forward_kernel', 'adamw_kernel', 'hr_loss_kernel']) {
        expect(kernels.some((n) => n.includes(k))).toBe(true);
      }
    }
    // The instruction mix from the PTX: the bf16/tf32 GEMM and the bf16 attention forward run on tensor cores
    // (mma.sync fed by ldmatrix) and the fp32 kernels do not, so a change that lost the mma path would show here.
    const ops = fs.readFileSync(path.join(dir, 'ptx-ops.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    expect(ops[0]).toEqual(['arch', 'kernel', 'mma_sync', 'ldmatrix', 'cp_async', 'fma_f32']);
    for (const arch of ['sm_80', 'sm_90']) {
      const row = (k: string) => ops.find((r) => r[0] === arch && r[1] === k);
      for (const k of ['gemm_tc_kernel<Bf16Operands>', 'gemm_tc_kernel<Tf32Operands>']) {
        expect(Number(row(k)?.[2])).toBeGreaterThanOrEqual(16);
        expect(Number(row(k)?.[3])).toBeGreaterThanOrEqual(8);
      }
      // The 128×128 kernel: 16 mma.sync per 32-byte step, two steps per k-tile; fed by cp.async (its pipeline).
      for (const k of ['gemm_tc_large_kernel<Bf16Operands>', 'gemm_tc_large_kernel<Tf32Operands>']) {
        expect(Number(row(k)?.[2])).toBeGreaterThanOrEqual(32);
        expect(Number(row(k)?.[4])).toBeGreaterThanOrEqual(4);
      }
      expect(Number(row('gemm_kernel')?.[2])).toBe(0);
      expect(Number(row('gemm_kernel')?.[5])).toBeGreaterThan(0);
      // Q·Kᵀ and P·V per key tile at d = 64: 4·4·2 + 4·4·2 mma.sync; V through ldmatrix.trans.
      expect(Number(row('attn_bf16_forward_kernel<64>')?.[2])).toBeGreaterThanOrEqual(64);
      expect(Number(row('attn_bf16_forward_kernel<128>')?.[3])).toBeGreaterThanOrEqual(16);
      expect(Number(row('attn_forward_kernel<64>')?.[2])).toBe(0);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 420000);

maybe('every tensor-core wrapper (mma.sync, ldmatrix and its .trans, cp.async) assembles for sm_80 and sm_90', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fairtune-mma-wrappers-'));
  try {
    for (const arch of ['sm_80', 'sm_90']) {
      const src = path.join(__dirname, 'mma-wrappers.cu');
      // -c runs ptxas on the generated PTX: a malformed instruction fails here.
      execFileSync(nvcc, ['-std=c++17', '-O3', `-arch=${arch}`, '-Werror', 'all-warnings', '-c', src, '-o', path.join(dir, `${arch}.o`)], { stdio: 'pipe' });
      const ptx = execFileSync(nvcc, ['-std=c++17', '-O3', `-arch=${arch}`, '-ptx', src, '-o', '-'], { encoding: 'utf8' });
      for (const op of ['mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32', 'ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16', 'cp.async.cg.shared.global', 'cp.async.wait_group']) {
        expect(ptx).toContain(op);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120000);
