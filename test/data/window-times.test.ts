// Window times (each window's recording and start) and the synthetic HR episodes that alarm evaluation
// is judged against.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadWindowSet, saveWindowSet } from '../../src/data/cache/windowset-file';
import { subsetWindowSet } from '../../src/data/split';
import { drawEpisodes } from '../../src/data/synth/episodes';
import { PRESETS } from '../../src/data/synth/presets';
import { synthWindowSet } from '../../src/data/synth/synth-windows';
import { alarmEvents } from '../../src/fairness/alarms/events';
import { ALARM_PROFILES } from '../../src/fairness/alarms/rules';
import { Rng } from '../../src/util/random';
import { readSafetensors, writeSafetensors } from '../../src/util/safetensors';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-times-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('window times', () => {
  const ws = synthWindowSet('butppg-like', { seed: 4, subjects: 6 });

  test('every window knows its recording and start; recordings belong to one subject', () => {
    const t = ws.times!;
    expect(t.seconds).toBe(10);
    expect(t.record.length).toBe(ws.hr.length);
    const owner = new Map<number, number>();
    for (let i = 0; i < ws.hr.length; i++) {
      if (owner.has(t.record[i])) expect(owner.get(t.record[i])).toBe(ws.subjectIndex[i]);
      owner.set(t.record[i], ws.subjectIndex[i]);
    }
    // 10 s clips: one window each, starting at 0; a long recording has windows at 0, 10, 20, …
    expect(new Set(t.start)).toEqual(new Set([0]));
    const long = synthWindowSet('mimic-like', { seed: 1, subjects: 2, seconds: 60 });
    expect(Array.from(long.times!.start)).toEqual([0, 10, 20, 30, 40, 50, 0, 10, 20, 30, 40, 50]);
    expect(Array.from(long.times!.record)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  });

  test('subsets keep them, files keep them, and older files without them still load', () => {
    const sub = subsetWindowSet(ws, [5, 1, 3]);
    expect(Array.from(sub.times!.record)).toEqual([5, 1, 3].map((i) => ws.times!.record[i]));
    const file = path.join(dir, 'a.safetensors');
    saveWindowSet(file, ws);
    const back = loadWindowSet(file);
    expect(Array.from(back.times!.record)).toEqual(Array.from(ws.times!.record));
    expect(Array.from(back.times!.start)).toEqual(Array.from(ws.times!.start));
    expect(back.times!.seconds).toBe(10);

    const old = path.join(dir, 'old.safetensors');
    saveWindowSet(old, { ...ws, times: undefined });
    expect(loadWindowSet(old).times).toBeUndefined();
  });

  test('incomplete or bad times are refused by name', () => {
    const file = path.join(dir, 'a.safetensors');
    saveWindowSet(file, ws);
    const { tensors, metadata } = readSafetensors(file);
    const bad = path.join(dir, 'bad.safetensors');
    const { start_s: _drop, ...rest } = tensors;
    // Written without checksums, so only the structure is judged.
    const { sha256: _s, ...meta } = metadata as Record<string, string>;
    writeSafetensors(bad, rest, meta);
    expect(() => loadWindowSet(bad)).toThrow(/window times are incomplete/);
    expect(() => saveWindowSet(path.join(dir, 'x.safetensors'), { ...ws, times: { ...ws.times!, start: new Float64Array(ws.hr.length).fill(-1) } })).toThrow(/starts at -1 s/);
  });
});

describe('synthetic HR episodes', () => {
  test('placed at the preset rates, never overlapping, inside the recording', () => {
    const rng = new Rng(7);
    let tachy = 0, brady = 0;
    const hours = 200;
    for (let k = 0; k < hours * 6; k++) {
      const eps = drawEpisodes(PRESETS['mimic-like'].episodes, 600, rng);
      for (let i = 0; i < eps.length; i++) {
        expect(eps[i].start).toBeGreaterThanOrEqual(30);
        expect(eps[i].end).toBeLessThanOrEqual(570);
        if (i > 0) expect(eps[i].start).toBeGreaterThanOrEqual(eps[i - 1].end + 30);
      }
      tachy += eps.filter((e) => e.kind === 'tachy').length;
      brady += eps.filter((e) => e.kind === 'brady').length;
    }
    // 4 and 3 per hour, a little fewer when a recording is too full to place one more.
    expect(tachy / hours).toBeGreaterThan(3.3);
    expect(tachy / hours).toBeLessThan(4.3);
    expect(brady / hours).toBeGreaterThan(2.5);
    expect(brady / hours).toBeLessThan(3.3);
    // Clips: the shares of the spot-check domain.
    let clipT = 0, clipB = 0;
    const clips = 100000;
    for (let k = 0; k < clips; k++) {
      const e = drawEpisodes(PRESETS['butppg-like'].episodes, 10, rng);
      if (e.length) expect(e[0]).toMatchObject({ start: 0, end: 10 });
      clipT += e.filter((x) => x.kind === 'tachy').length;
      clipB += e.filter((x) => x.kind === 'brady').length;
    }
    // Binomial standard errors 0.00075 and 0.00062: 4 of them either side.
    expect(Math.abs(clipT / clips - 0.06)).toBeLessThan(0.003);
    expect(Math.abs(clipB / clips - 0.04)).toBeLessThan(0.0025);
  });

  test('the labels follow each episode, and the ICU alarm rule on the labels finds the episodes', () => {
    const ws = synthWindowSet('mimic-like', { seed: 3, subjects: 40 });
    const episodes = ws.manifest.episodes as { kind: 'tachy' | 'brady'; record: number; start: number; end: number; targetHr: number }[];
    expect(episodes.length).toBeGreaterThan(15);
    const rule = ALARM_PROFILES.icu;
    let found = 0;
    const dev: number[] = [];
    for (const e of episodes) {
      const rows = Array.from(ws.times!.record.keys()).filter((i) => ws.times!.record[i] === e.record);
      // Windows wholly inside the episode, 15 s (3τ) after its onset, sit near its target.
      for (const i of rows) {
        const s = ws.times!.start[i];
        if (s >= e.start + 15 && s + 10 <= e.end) dev.push(ws.hr[i] - e.targetHr);
      }
      const st = rows.map((i) => ws.times!.start[i]);
      const beyond = rows.map((i) => (e.kind === 'tachy' ? ws.hr[i] > rule.high : ws.hr[i] < rule.low));
      const { events } = alarmEvents(st, beyond, 10, rule.n, rule.m, rule.mergeSeconds);
      if (events.some((ev) => ev.start <= e.end && ev.end >= e.start)) found++;
    }
    // RSA and the LF wave ride on the target, AF-like irregularity and ectopy move a 10 s label further
    // (a brady window holds only 6-7 beats); on average the labels sit on the target.
    expect(dev.length).toBeGreaterThan(50);
    expect(Math.abs(dev.reduce((a, b) => a + b, 0) / dev.length)).toBeLessThan(1.5);
    expect(dev.reduce((a, b) => a + Math.abs(b), 0) / dev.length).toBeLessThan(4);
    for (const d of dev) expect(Math.abs(d)).toBeLessThan(20);
    // Episodes of 45 s or more at 130+ / 44- bpm: the reference rule sees (almost) every one.
    expect(found / episodes.length).toBeGreaterThan(0.9);
  });

  test('episodes: false gives the cohort without them, the rest unchanged', () => {
    const a = synthWindowSet('dalia-like', { seed: 1, subjects: 2, seconds: 120, episodes: false });
    expect(a.manifest.episodes).toBeUndefined();
    expect(a.manifest.episodeRates).toBeNull();
  });
});

describe('matched groups', () => {
  test("the genders' mean resting HR differs by exactly the documented offset, each subject's spread kept", () => {
    const { drawSubjects } = require('../../src/data/synth/subjects') as typeof import('../../src/data/synth/subjects');
    const { DEFAULT_GROUP_EFFECTS } = require('../../src/data/synth/effects') as typeof import('../../src/data/synth/effects');
    const spec = PRESETS['dalia-like'];
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1));
    for (const seed of [1, 2, 3]) {
      const m = drawSubjects(spec, 15, seed, DEFAULT_GROUP_EFFECTS, 'S', true);
      const hr = (g: string) => m.filter((s) => s.physiology.gender === g).map((s) => s.physiology.restingHr);
      expect(mean(hr('F')) - mean(hr('M'))).toBeCloseTo(DEFAULT_GROUP_EFFECTS.restingHrOffsetBpm.F - DEFAULT_GROUP_EFFECTS.restingHrOffsetBpm.M, 9);
      // Centred, then rescaled by √(n/(n−1)) so each subject keeps the marginal variance sd²: the sample sd is
      // the unmatched draw's times that factor (no subject is near the 45/120 clamp at these seeds).
      const u = drawSubjects(spec, 15, seed, DEFAULT_GROUP_EFFECTS, 'S', false);
      for (const g of ['F', 'M']) {
        const n = hr(g).length;
        const un = u.filter((s) => s.physiology.gender === g).map((s) => s.physiology.restingHr);
        expect(sd(hr(g))).toBeCloseTo(sd(un) * Math.sqrt(n / (n - 1)), 9);
      }
      // Everything else is the unmatched draw.
      expect(m.map((s) => s.subject)).toEqual(u.map((s) => s.subject));
    }
    expect(synthWindowSet('dalia-like', { seed: 1, subjects: 4, seconds: 60, matched: true }).manifest.matched).toBe(true);
  });
});
