// writeReport: the three files, written atomically.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { computeFindings } from '../../src/report/findings';
import { writeReport } from '../../src/report';
import type { ExperimentResults } from '../../src/experiment/results';
import { makeResults } from './fixture';

let results: ExperimentResults;
let tmp: string;
beforeAll(() => {
  results = makeResults();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fairtune-report-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('writeReport', () => {
  test('writes report.html, metrics.csv and results.json and leaves no temporary files', async () => {
    const dir = path.join(tmp, 'nested', 'run');
    const files = await writeReport(dir, results);
    expect(files).toEqual({ html: path.join(dir, 'report.html'), csv: path.join(dir, 'metrics.csv'), json: path.join(dir, 'results.json') });
    expect(fs.readdirSync(dir).sort()).toEqual(['metrics.csv', 'report.html', 'results.json']);
    expect(fs.readFileSync(files.html, 'utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*<\/html>\n$/);
    expect(fs.readFileSync(files.csv, 'utf8').split('\n')[0]).toMatch(/^cell_id,source,target/);
    const written = JSON.parse(fs.readFileSync(files.json, 'utf8'));
    // The results as given, plus the findings the page states (computed, so other tools read the same ones).
    expect(written).toEqual({ ...JSON.parse(JSON.stringify(results)), findings: JSON.parse(JSON.stringify(computeFindings(results))) });
    expect(written.findings.findings.length).toBeGreaterThan(0);
  }, 60000);

  test('overwrites an earlier report in place', async () => {
    const dir = path.join(tmp, 'again');
    await writeReport(dir, results);
    const renamed = { ...results, name: 'second-run' };
    const files = await writeReport(dir, renamed);
    expect(fs.readFileSync(files.html, 'utf8')).toContain('fairtune report: second-run');
    expect(fs.readdirSync(dir)).toHaveLength(3);
  }, 60000);

  test('invalid results write nothing', async () => {
    const dir = path.join(tmp, 'bad');
    const bad = JSON.parse(JSON.stringify(results));
    bad.cells[0].targets[0].metrics.gap = null;
    await expect(writeReport(dir, bad)).rejects.toThrow(/cells\[0\]\.targets\[0\]\.metrics\.gap/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('a failed write names the file and removes its temporary file', async () => {
    const dir = path.join(tmp, 'blocked');
    fs.mkdirSync(dir);
    fs.mkdirSync(path.join(dir, 'results.json')); // a directory where the file must go: rename fails
    await expect(writeReport(dir, results)).rejects.toThrow(/cannot write .*results\.json/);
    expect(fs.readdirSync(dir)).toEqual(['results.json']);
  }, 60000);
});
