// Chart 5: 2-D (UMAP) projections of one transfer's embeddings coloured by group, one small panel per arm.
// Each arm shows the projection of its lowest seed. UMAP coordinates carry no units and differ between
// runs, so each panel has its own scales and no axes: only how the groups mix matters.
import type { TopLevelSpec } from 'vega-lite';
import type { ExperimentResults } from '../../experiment/results';
import { groupColours } from '../colors';
import { pairLabel, type ReportRecords } from '../records';
import { byRank, withRanks } from './order';

export interface ProjectionChoice {
  pair: string;
  embedding: string;
  points: { arm: string; seed: number; x: number; y: number; group: string }[];
}

/** The first transfer (in cell order) with any projection, and per arm its lowest seed's points. */
export function chooseProjection(results: ExperimentResults, rec: ReportRecords): ProjectionChoice | null {
  let chosen: { source: string; target: string; embedding: string } | null = null;
  for (const c of results.cells) {
    const t = c.targets.find((x) => x.projection && x.projection.x.length > 0);
    if (t) {
      chosen = { source: c.source, target: t.target, embedding: t.projection!.embedding };
      break;
    }
  }
  if (!chosen) return null;
  const best = new Map<string, { seed: number; points: ProjectionChoice['points'] }>();
  for (const c of results.cells) {
    if (c.source !== chosen.source) continue;
    const p = c.targets.find((t) => t.target === chosen!.target)?.projection;
    if (!p || p.embedding !== chosen.embedding || p.x.length === 0) continue;
    const arm = rec.arms.labelOf(c);
    const prev = best.get(arm);
    if (prev && prev.seed <= c.seed) continue;
    best.set(arm, { seed: c.seed, points: p.x.map((x, i) => ({ arm, seed: c.seed, x, y: p.y[i], group: c.groupNames[p.group[i]] })) });
  }
  return { pair: pairLabel(chosen.source, chosen.target), embedding: chosen.embedding, points: [...best.values()].flatMap((b) => b.points) };
}

export function projectionSpec(rec: ReportRecords, choice: ProjectionChoice): TopLevelSpec {
  return {
    title: `UMAP of the '${choice.embedding}' embeddings, ${choice.pair} (lowest seed per strategy)`,
    data: { values: withRanks(choice.points, { arm: rec.arms.order }) },
    facet: { column: { field: 'arm', type: 'nominal', sort: byRank('arm'), title: null } },
    spec: {
      width: 200,
      height: 200,
      mark: { type: 'circle', size: 14, opacity: 0.7 },
      encoding: {
        x: { field: 'x', type: 'quantitative', axis: null, scale: { zero: false } },
        y: { field: 'y', type: 'quantitative', axis: null, scale: { zero: false } },
        color: { field: 'group', type: 'nominal', scale: groupColours(rec.groupNames), title: 'group' },
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
}
