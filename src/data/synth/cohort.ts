// A synthetic cohort: subjects + recordings at the preset's native rate, deterministic from a seed.
import { Recording, Subject } from '../types';
import { layActivities } from './activity';
import { addArtefacts, drawBursts, Burst } from './artefacts';
import { generateBeats } from './beats';
import { DEFAULT_GROUP_EFFECTS, GroupEffects } from './effects';
import { drawEpisodes } from './episodes';
import { renderPulses } from './ppg';
import { getPreset, PresetSpec } from './presets';
import { Stream, streamRng } from './seed';
import { drawSubjects } from './subjects';

export interface CohortOptions {
  seed: number;
  /** Number of subjects (default: the preset's). */
  subjects?: number;
  /** Seconds per recording (default: the preset's). */
  seconds?: number;
  /** Recordings (clips) per subject (default: the preset's). */
  recordings?: number;
  /** Group effects (default DEFAULT_GROUP_EFFECTS). */
  effects?: GroupEffects;
  /**
   * Clean signals: pulses and respiratory modulation only, no baseline wander, motion, bursts, poor
   * clips or sensor noise (the HR estimator's accuracy floor; labels are unchanged).
   */
  clean?: boolean;
  /** Tachycardia/bradycardia episodes at the preset's rates (default true). */
  episodes?: boolean;
  /**
   * Matched groups: the genders' mean resting HR differs by exactly the documented offset, not by that plus
   * the sampling error of a small cohort (default false; see matchRestingHr in subjects.ts).
   */
  matched?: boolean;
}

export interface Cohort {
  subjects: Subject[];
  recordings: Recording[];
  /** Source description for the dataset manifest. */
  manifest: Record<string, unknown>;
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x <= 0) throw new Error(`synthetic cohort: ${name} must be a positive integer, got ${v}`);
  return x;
}

export function generateCohort(preset: string, opts: CohortOptions): Cohort {
  const spec: PresetSpec = getPreset(preset);
  if (!Number.isSafeInteger(opts.seed)) throw new Error(`synthetic cohort: seed must be an integer, got ${opts.seed}`);
  const nSubjects = positiveInt('subjects', opts.subjects, spec.subjects);
  const nRec = positiveInt('recordings', opts.recordings, spec.recordings);
  const seconds = opts.seconds ?? spec.seconds;
  if (!(seconds >= 2) || !Number.isFinite(seconds)) throw new Error(`synthetic cohort: seconds per recording must be ≥ 2, got ${opts.seconds}`);
  const effects = opts.effects ?? DEFAULT_GROUP_EFFECTS;
  const prefix = { 'dalia-like': 'S', 'butppg-like': 'B', 'mimic-like': 'p' }[spec.name];
  const drawn = drawSubjects(spec, nSubjects, opts.seed, effects, prefix, opts.matched ?? false);
  const recordings: Recording[] = [];
  const n = Math.round(seconds * spec.fs);
  drawn.forEach(({ subject, physiology: p }, si) => {
    for (let r = 0; r < nRec; r++) {
      const rng = streamRng(opts.seed, Stream.recording, si, r);
      const spans = layActivities(spec.activities, seconds, () => rng.uniform());
      const episodes = opts.episodes === false ? [] : drawEpisodes(spec.episodes, seconds, streamRng(opts.seed, Stream.episodes, si, r));
      const beats = generateBeats(spec, p, spans, seconds, rng, episodes);
      const signal = renderPulses(beats, p, spec.fs, n, 2 * Math.PI * rng.uniform());
      const bursts: Burst[] = drawBursts(rng, spans, seconds, spec.restBurstsPerMinute, spec.burstsPerMinute, p.artefactRate);
      const poor = !opts.clean && rng.uniform() < spec.poorShare;
      if (poor) {
        // A poor-quality clip: a strong artefact over most of it (finger moved, pressure changed).
        const start = rng.uniform() * seconds * 0.3;
        bursts.push({ start, end: Math.min(seconds, start + seconds * (0.5 + 0.4 * rng.uniform())), amp: 2 + 2 * rng.uniform() });
        bursts.sort((a, b) => a.start - b.start);
      }
      if (opts.clean) bursts.length = 0;
      const noise = opts.clean
        ? { wander: 0, noiseSd: 0, spans: spans.map((s) => ({ ...s, motion: 0 })) }
        : { wander: spec.wander, noiseSd: spec.noiseSd, spans };
      addArtefacts(signal, { fs: spec.fs, respHz: p.respHz, bursts, ...noise }, rng);
      const inside = beats.times.filter((t) => t >= 0);
      const meta: Record<string, string | number> = {
        quality: poor ? 0 : 1,
        bursts: bursts.length,
        activities: spans.map((s) => `${s.name}:${s.start.toFixed(1)}-${s.end.toFixed(1)}`).join(','),
      };
      recordings.push({ subjectId: subject.id, recordId: `${subject.id}_${String(r + 1).padStart(3, '0')}`, fs: spec.fs, signal, beats: inside, meta, episodes });
    }
  });
  return {
    subjects: drawn.map((d) => d.subject),
    recordings,
    manifest: {
      source: `synthetic:${spec.name}`,
      preset: spec.name,
      seed: opts.seed,
      nativeFs: spec.fs,
      subjects: nSubjects,
      recordingsPerSubject: nRec,
      secondsPerRecording: seconds,
      groupEffects: effects,
      clean: opts.clean ?? false,
      episodeRates: opts.episodes === false ? null : spec.episodes,
      matched: opts.matched ?? false,
    },
  };
}
