// Smoke test of the benchmark entry point: a --quick run of the peak and gemm suites produces the markdown
// table, the JSON rows and the BENCHMARKS.md-style document. Never asserts speed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runBench } from '../../bench/main';

describe('npm run bench -- --quick', () => {
  it('produces the table for the peak and gemm suites', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fairtune-bench-'));
    const json = path.join(dir, 'rows.json'), md = path.join(dir, 'BENCHMARKS.md');
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const err = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const rows = await runBench(['--quick', '--suite', 'peak,gemm', '--json', json, '--markdown', md]);
      const suites = new Set(rows.map((r) => r.suite));
      expect([...suites].sort()).toEqual(['gemm', 'peak']);
      const engine = rows.find((r) => r.figure.includes('engine'));
      expect(engine).toBeDefined();
      expect(engine!.rate).toBeGreaterThan(0);
      const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(printed).toMatch(/\| suite \| figure \| shape \| ms \| rate \| peer \| ratio \| of peak \| note \|/);
      expect(printed).toMatch(/linear forward \(\+bias\) · engine/);
      // The backward's two products, timed as one linearBackward call.
      const backward = rows.find((r) => r.figure === 'linear backward dx + dW · engine');
      expect(backward?.rate).toBeGreaterThan(0);
      expect(JSON.parse(fs.readFileSync(json, 'utf8')).rows).toHaveLength(rows.length);
      const doc = fs.readFileSync(md, 'utf8');
      expect(doc).toMatch(/Command.*: `npm run bench -- --quick --suite peak,gemm/);
      expect(doc).toMatch(/Load before: `.*load average/);
    } finally {
      log.mockRestore();
      err.mockRestore();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('rejects an unknown suite by name', async () => {
    await expect(runBench(['--suite', 'nope'])).rejects.toThrow(/unknown suite 'nope'/);
  });
});
