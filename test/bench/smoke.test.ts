// Smoke test of the benchmark entry point: a --quick run of the peak and gemm suites produces the markdown
// table, the JSON rows and the BENCHMARKS.md-style document. Never asserts speed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runBench } from '../../bench/main';
import type { CpuBackend } from '../../src/engine/cpu/backend';
import { getBackend } from '../../src/engine/registry';
import { engineThreads } from '../../src/profile/peak';

describe('npm run bench -- --quick', () => {
  it('produces the table for the peak and gemm suites', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fairtune-bench-'));
    const json = path.join(dir, 'rows.json'), md = path.join(dir, 'BENCHMARKS.md');
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const err = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const rows = await runBench(['--quick', '--suite', 'peak,gemm,gemm-one-thread', '--json', json, '--markdown', md]);
      const suites = new Set(rows.map((r) => r.suite));
      expect([...suites].sort()).toEqual(['gemm', 'gemm-one-thread', 'peak']);
      const engine = rows.find((r) => r.figure.includes('engine'));
      expect(engine).toBeDefined();
      expect(engine!.rate).toBeGreaterThan(0);
      const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(printed).toMatch(/\| suite \| figure \| shape \| ms \| rate \| peer \| ratio \| of peak \| note \|/);
      expect(printed).toMatch(/linear forward \(\+bias\) · engine/);
      // The backward's two products, timed as one linearBackward call.
      const backward = rows.find((r) => r.figure === 'linear backward dx + dW · engine');
      expect(backward?.rate).toBeGreaterThan(0);
      // The one-thread rows: every side on one thread, shares of the one-thread peak, the pool restored after.
      const single = rows.find((r) => r.figure === 'linear forward (+bias) · engine, one thread');
      expect(single?.rate).toBeGreaterThan(0);
      expect(single?.note).toMatch(/^1 thread;/);
      expect(single?.peakOf).toBe('fp32One');
      for (const peer of rows.filter((r) => r.figure.startsWith('sgemm · ') && r.figure.endsWith(', one thread'))) {
        expect(peer.note).toMatch(/^1 thread;/);
      }
      expect((getBackend('cpu') as CpuBackend).info().threads).toBe(engineThreads());
      const saved = JSON.parse(fs.readFileSync(json, 'utf8'));
      expect(saved.rows).toHaveLength(rows.length);
      // A quick run takes one turn per figure: no turns can disagree, and the document says so.
      expect(saved.steadiness.unevenTurns).toEqual([]);
      const doc = fs.readFileSync(md, 'utf8');
      expect(doc).toMatch(/Command.*: `npm run bench -- --quick --suite peak,gemm,gemm-one-thread/);
      expect(doc).toMatch(/Load before: `.*load average/);
      expect(doc).toMatch(/- Turns: .*disagree by more than 1\.25× .*: none in this run/);
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
