// The intersectional preset end to end (question 1 of the paper): gender × age band, four groups each with at
// least 5 evaluated subjects, every subject tested once, the gap reported as max − min and as the mean absolute
// deviation of the group MAEs, each with an interval.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { getBackend } from '../../src/engine/registry';
import { experimentPreset } from '../../src/experiment/presets';
import { runExperiment } from '../../src/experiment/run';
import { LocalRunner } from '../../src/runner/local';

test('intersectional: four gender × age groups, none below the minimum, both gaps with intervals', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-inter-'));
  try {
    const c = experimentPreset('intersectional');
    const backend = getBackend('cpu');
    const { results } = await runExperiment({ ...c, strategies: ['erm', 'groupdro'] }, { runsDir: dir, backend, runner: new LocalRunner(backend), progress: false });
    expect(results.failed).toEqual([]);
    for (const cell of results.cells) {
      expect(cell.groupNames).toEqual(['F|<50', 'F|>=50', 'M|<50', 'M|>=50']);
      const t = cell.targets[0];
      expect(t.metrics.subjects).toBe(120);
      expect(t.evaluation?.fewSubjects).toEqual([]);
      for (const g of t.metrics.perGroup) expect(g.subjects).toBeGreaterThanOrEqual(5);
      expect(t.metrics.gap.definition).toBe('max - min');
      expect(t.metrics.gapMad.estimate).toBeGreaterThan(0);
      expect(t.metrics.gapMad.estimate).toBeLessThanOrEqual(t.metrics.gap.estimate);
      expect(t.metrics.gapMad.lo).toBeLessThan(t.metrics.gapMad.hi);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120000);
