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
  expect(summary.map((s) => s[0])).toEqual(['stage', 'probe', 'build', 'ops', 'steps', 'memcheck', 'racecheck', 'synccheck', 'initcheck', 'bench']);
  const status = Object.fromEntries(summary.slice(1).map((s) => [s[0], s[1]]));
  expect(status.probe).toMatch(/^fail/);
  expect(fs.readFileSync(path.join(out, 'probe.log'), 'utf8')).toMatch(/torch\.cuda is not available|nvcc/);
  if (nvcc !== '') {
    expect(status.build).toBe('pass');
    expect(fs.existsSync(path.join(out, 'build', 'libftc.so'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'build', 'smoke'))).toBe(true);
  }
  for (const s of ['ops', 'memcheck', 'racecheck', 'synccheck', 'initcheck', 'bench']) expect(status[s]).toMatch(/^skipped \(needs the GPU/);
  const steps = fs.readFileSync(path.join(out, 'steps.log'), 'utf8');
  expect([status.steps, steps]).toEqual(['pass', expect.stringMatching(/backend cuda-emu, tiny/)]);
  expect(fs.existsSync(path.join(out, 'trace-tiny.safetensors'))).toBe(true);
  expect(r.stdout).toMatch(/gpu-check: sm_90, \d+ s, logs in /);
});
