// Per-subject absolute-error sums of one evaluation: the compact record from which any error metric of the
// evaluation (MAE, per-group MAE, gap) can be recomputed for a resample of subjects. Kept with each cell's
// results so that two cells tested on the same subjects (two strategies, same seed) can be compared paired,
// subject by subject (report/findings.ts).
import { checkSameLength } from '../../util/array-checks';

export interface SubjectErrors {
  /** The subject's id in its dataset (stable across cells that test on the same split). */
  subject: string;
  /** The subject's group name. */
  group: string;
  windows: number;
  /** Σ |pred − hr| over the subject's windows, bpm. */
  absErrorSum: number;
}

export function subjectErrorSums(
  pred: ArrayLike<number>, hr: ArrayLike<number>, groupOf: ArrayLike<number>, subjectIndex: ArrayLike<number>,
  subjectIds: readonly string[], groupNames: readonly string[],
): SubjectErrors[] {
  checkSameLength('subjectErrorSums', { pred, hr, groupOf, subjectIndex });
  const bySubject = new Map<number, SubjectErrors>();
  for (let i = 0; i < pred.length; i++) {
    const s = subjectIndex[i], g = groupNames[groupOf[i]];
    if (subjectIds[s] === undefined) throw new Error(`subjectErrorSums: window ${i} has subject index ${s}, outside the ${subjectIds.length} subjects`);
    if (g === undefined) throw new Error(`subjectErrorSums: window ${i} has group ${groupOf[i]}, outside ${groupNames.length} groups`);
    let e = bySubject.get(s);
    if (!e) bySubject.set(s, (e = { subject: subjectIds[s], group: g, windows: 0, absErrorSum: 0 }));
    else if (e.group !== g) throw new Error(`subjectErrorSums: subject ${subjectIds[s]} has windows in groups ${e.group} and ${g}`);
    e.windows++;
    e.absErrorSum += Math.abs(pred[i] - hr[i]);
  }
  return [...bySubject.values()].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
}
