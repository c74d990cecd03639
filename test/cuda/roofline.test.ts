// The roofline estimates of the tensor-core kernels (tools/gpu/roofline.py): every kernel at the model shapes
// and 4096³ gets a bound that is one of its three roofs and a fraction of the BF16 peak in (0, 1], and the table
// in docs/cuda.md is the script's output verbatim, so the document cannot drift from the model that makes it.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PYTHON } from '../pytorch/python';

const ROOT = path.resolve(__dirname, '../..');

interface Row {
  kernel: string;
  shape: string;
  bound: string;
  of_bf16_peak: number;
  fill: number;
  tflops: number;
}

test('roofline.py: a bound per kernel and shape, and docs/cuda.md carries its table', () => {
  const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fairtune-roofline-')), 'roofline.json');
  const r = spawnSync(PYTHON, [path.join(ROOT, 'tools/gpu/roofline.py'), '--json', json], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(0);
  const rows = (JSON.parse(fs.readFileSync(json, 'utf8')) as { rows: Row[] }).rows;
  fs.rmSync(path.dirname(json), { recursive: true, force: true });
  const kernels = new Set(rows.map((x) => x.kernel.replace(/<.*>/, '')));
  expect([...kernels].sort()).toEqual(['attn_bf16_backward_kernel', 'attn_bf16_forward_kernel', 'gemm_tc_kernel', 'gemm_tc_large_kernel']);
  for (const shape of ['19m', '345m', '1b', '4096³']) expect(rows.some((x) => x.shape.startsWith(shape))).toBe(true);
  for (const x of rows) {
    expect(['tensor', 'L2', 'HBM']).toContain(x.bound);
    expect(x.of_bf16_peak).toBeGreaterThan(0);
    expect(x.of_bf16_peak).toBeLessThanOrEqual(1);
    expect(x.fill).toBeGreaterThan(0);
    expect(x.fill).toBeLessThanOrEqual(1);
  }
  const doc = fs.readFileSync(path.join(ROOT, 'docs/cuda.md'), 'utf8');
  expect(doc).toContain(r.stdout.trim());
});
