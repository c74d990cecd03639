// The bullmq runner against a real Redis and real worker processes (the built CLI): same metrics as the
// in-process runner, a worker killed mid-cell loses nothing, malformed jobs fail clearly without hurting the
// worker, a cell that keeps failing is reported as failed, and enqueuing twice adds nothing.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Job, Queue } from 'bullmq';
import { getBackend } from '../../src/engine/registry';
import { ExperimentConfig, parseExperimentConfig } from '../../src/experiment/config';
import { cellId, cellsOf } from '../../src/experiment/cell';
import type { ExperimentResults } from '../../src/experiment/results';
import { reportExperiment, runExperiment } from '../../src/experiment/run';
import { writeReport } from '../../src/report';
import { LocalRunner } from '../../src/runner/local';
import { QUEUE_NAME, parseQueueUrl } from '../../src/runner/bullmq/connection';
import { cellJobData } from '../../src/runner/bullmq/job';
import { BullmqRunner } from '../../src/runner/bullmq/runner';
import { startRedis, TestRedis } from './redis-server';
import { CLI, FAST_QUEUE_ENV, requireDist, ROOT, spawnWorker, WorkerProcess } from './worker-process';

const small = {
  name: 'grid',
  windowSeconds: 10,
  domains: {
    a: { kind: 'synthetic', preset: 'dalia-like', seed: 1, subjects: 10, seconds: 120 },
    b: { kind: 'synthetic', preset: 'mimic-like', seed: 2, subjects: 10, seconds: 120, recordings: 1 },
  },
  sources: ['a'],
  strategies: ['erm', 'groupdro'],
  seeds: [0, 1],
  pretrain: { epochs: 1, batchSize: 16 },
  finetune: { epochs: 1, batchSize: 16 },
  evaluation: { bootstrap: 20, mmdPermutations: 10, maxEmbeddingRows: 40, projection: true },
  // A training state after every step, so that a cell killed mid-way has one to resume from.
  checkpointEvery: 1,
};

function metricsOf(r: ExperimentResults): Map<string, number[]> {
  return new Map(r.cells.map((c) => [c.id, c.targets.flatMap((t) => [t.metrics.mae.estimate, t.metrics.gap.estimate, ...t.metrics.perGroup.map((g) => g.mae.estimate)])]));
}

function expectSameMetrics(got: ExperimentResults, want: ExperimentResults): void {
  const g = metricsOf(got), w = metricsOf(want);
  expect([...g.keys()].sort()).toEqual([...w.keys()].sort());
  for (const [id, values] of w) {
    const other = g.get(id)!;
    expect(other).toHaveLength(values.length);
    values.forEach((v, i) => expect(Math.abs(other[i] - v)).toBeLessThan(1e-9));
  }
}

async function waitForState(queue: Queue, jobId: string, states: string[], timeoutMs = 20000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await queue.getJobState(jobId);
    if (states.includes(state)) return (await queue.getJob(jobId))!;
    if (Date.now() > deadline) throw new Error(`job ${jobId} is ${state}, not ${states.join('/')}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('distributed experiment (bullmq on Redis)', () => {
  let redis: TestRedis;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-queue-'));
  const workers: WorkerProcess[] = [];
  const backend = getBackend('cpu');
  let config: ExperimentConfig;
  let local: ExperimentResults;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    requireDist();
    Object.assign(process.env, FAST_QUEUE_ENV);
    redis = await startRedis();
    config = parseExperimentConfig(small);
    // The reference: the same grid on the in-process runner.
    local = (await runExperiment(config, { runsDir: path.join(tmp, 'local'), backend, runner: new LocalRunner(backend), progress: false })).results;
    expect(local.failed).toEqual([]);
    expect(local.cells).toHaveLength(4);
  }, 60000);

  afterAll(async () => {
    for (const w of workers) w.killGroup();
    await redis?.stop();
    process.env = savedEnv;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('enqueuing a grid twice adds nothing', async () => {
    const runner = new BullmqRunner(redis.url(1));
    try {
      const cells = cellsOf(config);
      const first = await runner.enqueue(config, cells);
      expect(first).toMatchObject({ added: 4, existing: 0, retried: 0 });
      const second = await runner.enqueue(config, cells);
      expect(second).toMatchObject({ added: 0, existing: 4, retried: 0 });
      expect(second.ids).toEqual(first.ids);
      const counts = await runner.queue.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed', 'prioritized');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(4);
    } finally {
      await runner.close();
    }
  });

  it('runs the grid on two worker processes with the same metrics as the local runner; rejects malformed jobs', async () => {
    const url = redis.url(0);
    const runs = path.join(tmp, 'shared');
    workers.push(spawnWorker(url, runs), spawnWorker(url, runs));
    await Promise.all(workers.slice(-2).map((w) => w.waitFor(/taking cells/)));

    // Malformed payloads first: each fails at once with the invalid field named, and the workers live on
    // to run the grid below.
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(url) });
    try {
      await queue.add('cell', { garbage: true }, { jobId: 'garbage', attempts: 3 });
      const bad = cellJobData(config, cellsOf(config)[0]) as unknown as { config: Record<string, unknown> };
      await queue.add('cell', { ...bad, config: { ...bad.config, strategies: ['dro'] } }, { jobId: 'bad-strategy', attempts: 3 });
      const g = await waitForState(queue, 'garbage', ['failed']);
      expect(g.failedReason).toMatch(/invalid cell job payload/);
      expect(g.failedReason).toMatch(/version/);
      expect(g.failedReason).toMatch(/config/);
      expect(g.attemptsMade).toBe(1); // not retried: a payload does not get better
      const s = await waitForState(queue, 'bad-strategy', ['failed']);
      expect(s.failedReason).toMatch(/config\.strategies/);
    } finally {
      await queue.close();
    }
    for (const w of workers.slice(-2)) expect(w.proc.exitCode).toBeNull();

    const runner = new BullmqRunner(url, { pollMs: 200 });
    let queued: ExperimentResults;
    try {
      queued = (await runExperiment(config, { runsDir: runs, backend, progress: false, runner })).results;
    } finally {
      await runner.close();
    }
    expect(queued.failed).toEqual([]);
    expect(queued.cells).toHaveLength(4);
    expectSameMetrics(queued, local);
    // Both workers took part.
    for (const w of workers.slice(-2)) expect(w.output()).toMatch(/job grid__.*: running/);

    // The report from stored results alone (the CLI, as a user would call it) lists the same cells.
    const cfgFile = path.join(tmp, 'grid.json');
    fs.writeFileSync(cfgFile, JSON.stringify(small));
    // runExperiment gathers results only (the CLI writes reports): no results.json may exist yet.
    expect(fs.existsSync(path.join(runs, 'grid', 'results.json'))).toBe(false);
    const rep = spawnSync(process.execPath, [CLI, 'experiment', '--config', cfgFile, '--runs', runs, '--queue', url, '--report'], { cwd: ROOT, encoding: 'utf8', timeout: 30000 });
    expect(rep.stderr).toBe('');
    expect(rep.status).toBe(0);
    expect(rep.stdout).toMatch(/4 cells \(0 failed, 0 not finished\)/);
    const stored = JSON.parse(fs.readFileSync(path.join(runs, 'grid', 'results.json'), 'utf8')) as ExperimentResults;
    expectSameMetrics(stored, local);
  }, 60000);

  it('a worker killed mid-cell loses nothing: the other worker resumes the cell from its saved state, every cell once, same metrics', async () => {
    const url = redis.url(3);
    const runs = path.join(tmp, 'killed');
    const victim = spawnWorker(url, runs);
    const survivor = spawnWorker(url, runs);
    workers.push(victim, survivor);
    await Promise.all([victim.waitFor(/taking cells/), survivor.waitFor(/taking cells/)]);

    const runner = new BullmqRunner(url, { pollMs: 200 });
    const run = runExperiment(config, { runsDir: runs, backend, progress: false, runner });
    let killedJob = '';
    try {
      // The victim's first cell includes loading the grid: it is still running when the signal lands.
      const started = await victim.waitFor(/job (\S+): running \S+ (\S+) · (\S+) · (\S+) · seed (\d+)/);
      killedJob = started[1];
      const victimCell = cellsOf(config).find((s) => s.source === started[2] && s.strategy === started[3] && s.size === started[4] && s.seed === Number(started[5]));
      if (!victimCell) throw new Error(`the victim runs a cell the grid does not have: ${started[0]}`);
      // Mid-cell: once the victim's own cell has saved a training state in the shared runs folder (a state of
      // the survivor's cell would say nothing about the victim's progress).
      const cells = path.join(runs, 'grid', 'cells');
      const ownState = `${cellId(config, victimCell)}.fold`;
      const deadline = Date.now() + 30000;
      while (!(fs.existsSync(cells) && fs.readdirSync(cells).some((f) => f.startsWith(ownState) && f.endsWith('.state.safetensors')))) {
        if (Date.now() > deadline) throw new Error('no training state was saved within 30 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      // The whole worker machine dies: the worker and the cell process it runs the cell in (killing the worker
      // alone would leave its cell process to finish and store the cell, which is also fine but not this test).
      victim.killGroup();
      const results = (await run).results;
      expect(results.failed).toEqual([]);
      expect(results.cells).toHaveLength(4);
      expect(new Set(results.cells.map((c) => c.id)).size).toBe(4);
      expectSameMetrics(results, local);
    } finally {
      await run.catch(() => undefined);
      await runner.close();
    }
    expect(await victim.exited()).toBeNull(); // killed by the signal, not finished
    expect(survivor.output()).toContain(`job ${killedJob}: running`);
    // It continued where the killed cell stopped rather than from the start.
    expect(survivor.output()).toMatch(/resuming from its saved training state/);
    const files = fs.readdirSync(path.join(runs, 'grid', 'cells'));
    expect(files.filter((f) => f.endsWith('.json')).sort()).toEqual(cellsOf(config).map((s) => `${cellId(config, s)}.json`).sort());
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    // Stored cells leave no training state behind.
    expect(files.filter((f) => f.endsWith('.state.safetensors'))).toEqual([]);
  }, 60000);

  it('a cell that fails on every attempt is failed after 3 attempts and reported with its error', async () => {
    const url = redis.url(4);
    const runs = path.join(tmp, 'failing');
    // A valid configuration whose foundation checkpoint does not exist: every attempt fails in the worker.
    const failing = parseExperimentConfig({ ...small, name: 'failing', strategies: ['erm'], seeds: [0], pretrain: { checkpoint: path.join(tmp, 'missing.safetensors') } });
    const w = spawnWorker(url, runs);
    workers.push(w);
    const runner = new BullmqRunner(url);
    try {
      const q = await runner.enqueue(failing, cellsOf(failing));
      const job = await waitForState(runner.queue, q.ids[0], ['failed', 'completed'], 30000);
      expect(await job.getState()).toBe('failed');
      expect(job.attemptsMade).toBe(3);
      expect(job.failedReason).toMatch(/pretrain\.checkpoint: no file at .*missing\.safetensors/);
      const failures = await runner.failures(failing);
      expect(failures).toHaveLength(1);
      expect(failures[0].id).toBe(cellId(failing, cellsOf(failing)[0]));
      const rep = await reportExperiment(failing, { runsDir: runs, failed: failures });
      await writeReport(rep.dir, rep.results);
      expect(rep.results.failed).toEqual(failures);
      expect(rep.results.cells).toEqual([]);
      expect(fs.readFileSync(path.join(rep.dir, 'report.html'), 'utf8')).toContain(failures[0].id);
    } finally {
      await runner.close();
    }
    expect(w.proc.exitCode).toBeNull();
  }, 60000);

  it('workers wait for Redis when it goes away and carry on when it is back', async () => {
    const url = redis.url(5);
    const w = spawnWorker(url, path.join(tmp, 'outage'));
    workers.push(w);
    await w.waitFor(/taking cells/);
    const port = redis.port;
    await redis.stop();
    await w.waitFor(/queue error: .*ECONNREFUSED.*\(retrying\)/, 15000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(w.proc.exitCode).toBeNull();
    redis = await startRedis(port);
    // A job added after the outage is taken by the same worker (it fails: the payload is garbage).
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(url) });
    try {
      await queue.add('cell', { version: 1 }, { jobId: 'after-outage' });
      const job = await waitForState(queue, 'after-outage', ['failed'], 20000);
      expect(job.failedReason).toMatch(/config/);
    } finally {
      await queue.close();
    }
    expect(w.proc.exitCode).toBeNull();
  }, 60000);
});
