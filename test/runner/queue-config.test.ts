// The queue's inputs without Redis: the URL of --queue and the validation of a job's payload.
import { parseExperimentConfig } from '../../src/experiment/config';
import { cellsOf } from '../../src/experiment/cell';
import { parseQueueUrl } from '../../src/runner/bullmq/connection';
import { cellJobData, cellJobId, parseCellJob } from '../../src/runner/bullmq/job';

const config = parseExperimentConfig({
  name: 'unit',
  domains: { a: { kind: 'synthetic', preset: 'dalia-like', seed: 1 } },
  sources: ['a'],
  strategies: ['erm', 'adv'],
  seeds: [0, 1],
});

describe('queue URL', () => {
  it('reads host, port, database and credentials; never gives up reconnecting', () => {
    const o = parseQueueUrl('redis://user:p%40ss@10.0.0.5:6380/3');
    expect(o).toMatchObject({ host: '10.0.0.5', port: 6380, db: 3, username: 'user', password: 'p@ss', maxRetriesPerRequest: null });
    expect(parseQueueUrl('redis://localhost')).toMatchObject({ host: 'localhost', port: 6379, db: 0 });
    expect(parseQueueUrl('rediss://h:1/0').tls).toEqual({});
    const retry = o.retryStrategy!;
    expect(retry(1)).toBeGreaterThan(0);
    expect(retry(1000)).toBe(5000);
  });

  it('rejects what is not a Redis URL, naming the problem', () => {
    expect(() => parseQueueUrl('localhost:6379')).toThrow(/scheme must be redis/);
    expect(() => parseQueueUrl('http://h:1/0')).toThrow(/scheme must be redis/);
    expect(() => parseQueueUrl('redis://h:1/x')).toThrow(/database must be a number/);
    expect(() => parseQueueUrl('redis://h:1/0?queue=q')).toThrow(/query strings/);
    expect(() => parseQueueUrl('not a url')).toThrow(/not a URL/);
  });
});

describe('cell job payload', () => {
  const cells = cellsOf(config);

  it('round-trips through JSON and keeps a stable id per cell', () => {
    const data = JSON.parse(JSON.stringify(cellJobData(config, cells[1])));
    const back = parseCellJob(data);
    expect(back.cell).toEqual(cells[1]);
    expect(back.config).toEqual(config);
    expect(new Set(cells.map((c) => cellJobId(config, c))).size).toBe(cells.length);
    expect(cellJobId(config, cells[0])).toBe(cellJobId(parseExperimentConfig(JSON.parse(JSON.stringify(config))), cells[0]));
  });

  it('names the invalid field', () => {
    const good = JSON.parse(JSON.stringify(cellJobData(config, cells[0])));
    expect(() => parseCellJob(null)).toThrow(/invalid cell job payload/);
    expect(() => parseCellJob({ ...good, version: 2 })).toThrow(/- version:/);
    expect(() => parseCellJob({ ...good, code: 'process.exit()' })).toThrow(/code/);
    expect(() => parseCellJob({ ...good, config: { ...good.config, finetune: { ...good.config.finetune, lr: -1 } } })).toThrow(/config\.finetune\.lr/);
    expect(() => parseCellJob({ ...good, cell: { ...good.cell, seed: 7 } })).toThrow(/cell\.seed: 7 is not in the experiment's seeds/);
    expect(() => parseCellJob({ ...good, cell: { ...good.cell, strategy: 'groupdro' } })).toThrow(/cell\.strategy/);
    expect(() => parseCellJob({ ...good, cell: { ...good.cell, seed: 'x' } })).toThrow(/cell\.seed/);
  });
});
