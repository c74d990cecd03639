// The prepared GPU check, tested here before a GPU runs it: its C entry points (tools/gpu/capi.cu) and smoke
// program (tools/gpu/smoke.cu) built through the emulation header (the kernels themselves run under ASan in
// emu.test.ts and asan-addon.test.ts), its Python drivers (check_ops.py against
// float64 PyTorch, bench.py) run on CPU tensors through them, and scripts/gpu-check.sh itself on this
// machine without a GPU: the build stage passes, the GPU stages are skipped with their reason, the summary
// is printed and the exit status says that a stage failed. What it finds on a real GPU is recorded in
// docs/cuda.md only once a GPU has run it.
import { execFile, execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PYTHON, requireTorch, tempDir } from '../pytorch/python';

const ROOT = path.resolve(__dirname, '../..');
const KERNELS = fs.readdirSync(path.join(ROOT, 'kernels/cuda')).filter((f) => f.endsWith('.cu')).map((f) => path.join(ROOT, 'kernels/cuda', f));
const EMU = ['-DFT_CUDA_EMU', '-std=c++20', '-O2', '-pthread', '-Wall', '-Wno-unknown-pragmas', '-x', 'c++'];

let dir: string;
let objects: string[];
beforeAll(async () => {
  requireTorch();
  dir = tempDir('gpu-check');
  // Every source compiled once (two at a time), then linked both into the ctypes library and the smoke program.
  const sources = [...KERNELS, path.join(ROOT, 'tools/gpu/capi.cu'), path.join(ROOT, 'tools/gpu/smoke.cu')];
  objects = sources.map((f) => path.join(dir, `${path.basename(f)}.o`));
  const compile = (i: number) => new Promise<void>((resolve, reject) => {
    execFile('g++', [...EMU, '-fPIC', '-c', sources[i], '-o', objects[i]], (e, _o, err) => (e ? reject(new Error(`${sources[i]}: ${err}`)) : resolve()));
  });
  for (let i = 0; i < sources.length; i += 2) await Promise.all([compile(i), ...(i + 1 < sources.length ? [compile(i + 1)] : [])]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Guards against a hang; the check_ops test (check_ops.py, then bench.py) takes about a minute and a half on a
// quiet 2-core machine, several times that beside the rest of the suite.
jest.setTimeout(600_000);

function python(script: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(PYTHON, [path.join(ROOT, 'tools/gpu', script), ...args], {
    encoding: 'utf8', timeout: 400_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('check_ops.py: every kernel family against float64 PyTorch through the C entry points (emulated kernels, quick shapes)', () => {
  const lib = path.join(dir, 'libftc_emu.so');
  execFileSync('g++', ['-shared', '-pthread', ...objects.filter((o) => !o.endsWith('smoke.cu.o')), '-o', lib], { stdio: 'pipe' });
  const r = python('check_ops.py', ['--lib', lib, '--device', 'cpu', '--quick', '--out', dir]);
  expect(r.out).toMatch(/check_ops: (\d+)\/\1 outputs within bounds on cpu/);
  expect(r.status).toBe(0);
  const rows = JSON.parse(fs.readFileSync(path.join(dir, 'ops.json'), 'utf8')) as { op: string; ok: boolean; rel_err: number }[];
  const ops = new Set(rows.map((x) => x.op));
  for (const op of ['linear fp32', 'linear bf16', 'linear tf32', 'linear bf16 128x128', 'rmsNorm', 'layerNorm', 'gelu', 'ropeAttention', 'ropeAttention bf16', 'hrLoss', 'adamw', 'sumSquares', 'globalNorm', 'adamw clipped', 'adamw NaN norm', 'deviceCheck finite', 'deviceCheck groupIds', 'deviceCheck weights']) {
    expect(ops.has(op)).toBe(true);
  }
  expect(rows.length).toBeGreaterThan(100);
  expect(rows.every((x) => x.ok)).toBe(true);

  // bench.py runs its code paths on the smallest shapes (times meaningless off a GPU).
  const b = python('bench.py', ['--lib', lib, '--device', 'cpu', '--out', dir]);
  expect(b.status).toBe(0);
  const bench = JSON.parse(fs.readFileSync(path.join(dir, 'bench.json'), 'utf8')) as {
    rows: { kind: string; engine_bf16_s?: number; engine_tf32_s?: number; engine_bf16_128_s?: number; engine_bf16_fwd_bwd_s?: number }[];
  };
  expect(bench.rows.map((x) => x.kind)).toEqual(['gemm', 'attention']);
  expect(bench.rows[0].engine_bf16_s).toBeGreaterThan(0);
  expect(bench.rows[0].engine_tf32_s).toBeGreaterThan(0);
  expect(bench.rows[0].engine_bf16_128_s).toBeGreaterThan(0);
  expect(bench.rows[1].engine_bf16_fwd_bwd_s).toBeGreaterThan(0);
});

test('the smoke program for compute-sanitizer runs every kernel family cleanly (emulated)', () => {
  const exe = path.join(dir, 'smoke_emu');
  execFileSync('g++', ['-pthread', ...objects, '-o', exe], { stdio: 'pipe' });
  const r = spawnSync(exe, [], { encoding: 'utf8', timeout: 300_000 });
  expect(`${r.stdout}${r.stderr}`).toContain('smoke: 0 failure(s)');
  expect(r.stdout.split('\n').filter((l) => l.startsWith('ok  '))).toHaveLength(12);
  expect(r.status).toBe(0);
});

const nvcc = spawnSync('sh', ['-c', 'command -v ${NVCC:-nvcc}'], { encoding: 'utf8' }).stdout.trim();

// The steps stage runs on the emulated addon here (GPU_CHECK_STEP_BACKEND=cuda-emu, the tiny model only): the
// same entry point, trace file and PyTorch check the GPU run uses.
test('scripts/gpu-check.sh without a GPU: builds where nvcc exists, checks a step on the emulator, skips the GPU stages saying why, exits 1', () => {
  const out = path.join(dir, 'run');
  const r = spawnSync('sh', [path.join(ROOT, 'scripts/gpu-check.sh')], {
    encoding: 'utf8', timeout: 280_000,
    env: { ...process.env, OUT: out, PYTHON, GPU_CHECK_STEP_BACKEND: 'cuda-emu', GPU_CHECK_STEP_SIZES: 'tiny' },
  });
  expect(r.status).toBe(1);
  const summary = fs.readFileSync(path.join(out, 'summary.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
  expect(summary.map((s) => s[0])).toEqual(['stage', 'probe', 'build', 'sass', 'ops', 'steps', 'memcheck', 'racecheck', 'synccheck', 'initcheck', 'bench']);
  const status = Object.fromEntries(summary.slice(1).map((s) => [s[0], s[1]]));
  expect(status.probe).toMatch(/^fail/);
  expect(fs.readFileSync(path.join(out, 'probe.log'), 'utf8')).toMatch(/torch\.cuda is not available|nvcc/);
  if (nvcc !== '') {
    expect(status.build).toBe('pass');
    expect(fs.existsSync(path.join(out, 'build', 'libftc.so'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'build', 'smoke'))).toBe(true);
  }
  for (const s of ['ops', 'memcheck', 'racecheck', 'synccheck', 'initcheck', 'bench']) expect(status[s]).toMatch(/^skipped \(needs the GPU/);
  // cuobjdump comes with the full CUDA toolkit (the lent GPU machine), not with the nvcc this machine and CI have;
  // found as the script finds it: on PATH, else beside nvcc.
  const onPath = spawnSync('sh', ['-c', 'command -v cuobjdump'], { encoding: 'utf8' }).stdout.trim();
  const cuobjdump = onPath !== '' ? onPath : nvcc === '' ? '' : path.join(path.dirname(nvcc), 'cuobjdump');
  if (nvcc !== '' && cuobjdump !== '' && fs.existsSync(cuobjdump)) {
    expect(status.sass).toBe('pass');
    const rows = fs.readFileSync(path.join(out, 'sass.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    const hmma = rows[0].indexOf('hmma');
    expect(rows.some((r) => /gemm_tc_kernel/.test(r[0]) && Number(r[hmma]) > 0)).toBe(true);
  } else {
    expect(status.sass).toBe('skipped (needs the build and cuobjdump)');
  }
  const steps = fs.readFileSync(path.join(out, 'steps.log'), 'utf8');
  expect([status.steps, steps]).toEqual(['pass', expect.stringMatching(/backend cuda-emu, tiny/)]);
  expect(fs.existsSync(path.join(out, 'trace-tiny.safetensors'))).toBe(true);
  expect(r.stdout).toMatch(/gpu-check: sm_90, \d+ s, logs in /);
});

// The SASS stage's counter, on a listing in cuobjdump -sass's format (this machine has no cuobjdump): opcodes
// counted per function whatever their modifiers and predicates, and a tensor-core kernel without HMMA refused.
test('tools/gpu/sass_counts.py: counts HMMA, HGMMA and FFMA per kernel and refuses a tensor-core kernel without them', () => {
  const fn = (name: string, body: string[]) => [
    `\t\tFunction : ${name}`, '\t.headerflags\t@"EF_CUDA_TEXMODE_UNIFIED EF_CUDA_64BIT_ADDRESS EF_CUDA_SM90"',
    ...body.map((b, i) => `        /*${(i * 16).toString(16).padStart(4, '0')}*/                   ${b} ;   /* 0x000fe200078e00ff */`), '',
  ];
  const tc = '_ZN3ftc12_GLOBAL__N_114gemm_tc_kernelINS0_12Bf16OperandsEEEviiiPKfxxS4_xxPfxiS4_iS4_';
  const plain = '_ZN3ftc12_GLOBAL__N_111gemm_kernelEiiiPKfxxS2_xxPfxiS2_iS2_';
  const good = [
    ...fn(tc, ['LDSM.16.M88.4 R4, [R2]', 'HMMA.16816.F32.BF16 R16, R4, R8, R16', '@!P0 HMMA.16816.F32.BF16 R20, R4, R10, R20', 'FFMA R1, R2, R3, R1', 'EXIT']),
    ...fn(plain, ['FFMA R1, R2, R3, R1', '@P1 FFMA R5, R2, R3, R5', 'FMUL R1, R1, 0.5', 'BAR.SYNC.DEFER_BLOCKING 0x0', 'EXIT']),
  ];
  const listing = path.join(dir, 'good.sass');
  fs.writeFileSync(listing, good.join('\n'));
  const tsv = path.join(dir, 'sass.tsv');
  const ok = python('sass_counts.py', ['--sass', listing, '--out', tsv]);
  expect(ok.status).toBe(0);
  const rows = fs.readFileSync(tsv, 'utf8').trim().split('\n').map((l) => l.split('\t'));
  const head = rows[0];
  const col = (row: string[], c: string) => Number(row[head.indexOf(c)]);
  expect(head.slice(0, 4)).toEqual(['kernel', 'hmma', 'hgmma', 'ffma']);
  expect(rows).toHaveLength(3);
  const [tcRow, plainRow] = [rows[1], rows[2]];
  expect(tcRow[0]).toMatch(/gemm_tc_kernel/);
  expect([col(tcRow, 'hmma'), col(tcRow, 'ffma'), col(tcRow, 'ldsm'), col(tcRow, 'other'), col(tcRow, 'total')]).toEqual([2, 1, 1, 1, 5]);
  expect([col(plainRow, 'hmma'), col(plainRow, 'ffma'), col(plainRow, 'fmul'), col(plainRow, 'bar'), col(plainRow, 'total')]).toEqual([0, 2, 1, 1, 5]);

  // The same tensor-core kernel compiled to FMAs only: the stage fails and names it.
  const bad = path.join(dir, 'bad.sass');
  fs.writeFileSync(bad, fn(tc, ['FFMA R1, R2, R3, R1', 'EXIT']).join('\n'));
  const refused = python('sass_counts.py', ['--sass', bad]);
  expect(refused.status).toBe(1);
  expect(refused.out).toMatch(/gemm_tc_kernel.* is a tensor-core kernel with no HMMA or HGMMA/);
  // Not a listing at all.
  const empty = path.join(dir, 'empty.sass');
  fs.writeFileSync(empty, 'cuobjdump info    : File does not contain device code\n');
  expect(python('sass_counts.py', ['--sass', empty])).toEqual({ status: 2, out: expect.stringMatching(/no 'Function :'/) });
});
