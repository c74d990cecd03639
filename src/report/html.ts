// The HTML report: one self-contained page (inline CSS and SVG, no scripts, no external assets) with the
// summary table, the charts of DESIGN section 5 and the configuration and data manifests.
import { scalingEmbeddingSpec, scalingErrorSpec, sizesOf } from './charts/scaling';
import type { TopLevelSpec } from 'vega-lite';
import type { ExperimentResults } from '../experiment/results';
import { embeddingShiftSpec } from './charts/embedding-shift';
import { alarmGapSpec } from './charts/alarm-gaps';
import { alarmRecords } from './alarms';
import { groupMaeSpec } from './charts/group-mae';
import { chooseProjection, projectionSpec } from './charts/projection';
import { tradeoffSpec } from './charts/tradeoff';
import { groupLossSpec, pretrainingSpec, trainingCurvesSpec } from './charts/training';
import { transferMatrixSpec } from './charts/transfer-matrix';
import { escapeHtml } from './escape';
import { computeFindings, type Findings } from './findings';
import { findingsHtml } from './findings-html';
import { reportRecords, type ReportRecords } from './records';
import { renderVegaLite } from './render-svg';
import { REPORT_CSS } from './style';
import { alarmsHtml, configHtml, costHtml, failedHtml, manifestsHtml, summaryHtml } from './tables';
import { checkResults } from './validate';

/** One chart section: its heading, explanation, and the specs it draws (empty: `empty` is shown instead). */
interface ChartSection {
  id: string;
  title: string;
  explain: string;
  specs: { id: string; spec: TopLevelSpec }[];
  empty: string;
}

/** The chart sections in page order. Exported so tests can count the SVGs each one must hold. */
export function chartSections(results: ExperimentResults, rec: ReportRecords = reportRecords(results)): ChartSection[] {
  const hasTargets = rec.targets.length > 0;
  const projection = chooseProjection(results, rec);
  const alarms = alarmRecords(results);
  const sections: ChartSection[] = [
    {
      id: 'transfer-matrix',
      title: 'Source → target matrices',
      explain:
        'Each panel is one strategy; rows are the domain the model was fine-tuned on, columns the domain it was tested on. ' +
        'The top matrix shows the test MAE, the bottom one the gap between groups’ MAE; each cell prints the mean over seeds. Lower is better in both.',
      specs: hasTargets ? [{ id: 'matrix-mae', spec: transferMatrixSpec(rec, 'mae') }, { id: 'matrix-gap', spec: transferMatrixSpec(rec, 'gap') }] : [],
      empty: 'No target metrics.',
    },
    {
      id: 'group-mae',
      title: 'MAE per group',
      explain:
        'For each transfer, the MAE of every group under each strategy. Bars are the mean over seeds; each black line is one seed’s ' +
        'bootstrap confidence interval over subjects and each dot that seed’s estimate. Bars of equal height mean a fair model.',
      specs: hasTargets ? [{ id: 'group-mae', spec: groupMaeSpec(rec) }] : [],
      empty: 'No target metrics.',
    },
    {
      id: 'tradeoff',
      title: 'Fairness–accuracy trade-off',
      explain:
        'One point per fine-tuned cell (seed) and transfer: x is the test MAE, y the gap between groups, with the bootstrap intervals ' +
        'of both as whiskers. Points towards the bottom-left are both accurate and fair; a mitigation that lowers the gap at the cost of MAE moves down and right.',
      specs: hasTargets ? [{ id: 'tradeoff', spec: tradeoffSpec(rec) }] : [],
      empty: 'No target metrics.',
    },
    {
      id: 'scaling',
      title: 'Does scale widen the gap?',
      explain:
        'For each transfer, the gap between groups and the test MAE of every strategy against the fine-tuned model’s parameter count (log axis): ' +
        'each dot is one seed, each line joins the sizes’ means. Below, the separation of the groups in the embeddings (MMD², silhouette) against size. ' +
        'A gap that rises with size means scale widens it; the paper preset draws the same section from 19m to 1b.',
      specs: sizesOf(rec).length >= 2
        ? [
          { id: 'scaling-gap', spec: scalingErrorSpec(rec, 'gap') }, { id: 'scaling-mae', spec: scalingErrorSpec(rec, 'mae') },
          ...(rec.embeddings.length > 0
            ? [{ id: 'scaling-mmd2', spec: scalingEmbeddingSpec(rec, 'mmd2') }, { id: 'scaling-silhouette', spec: scalingEmbeddingSpec(rec, 'silhouette') }]
            : []),
        ]
        : [],
      empty: 'One model size only: run several (the scaling preset) to see how the gap moves with scale.',
    },
    {
      id: 'alarms',
      title: 'Do fairer HR predictions give fairer alarms?',
      explain:
        'The predictions of each cell turned into the alarms a device raises: tachycardia above and bradycardia below the thresholds of the target’s device profile, ' +
        'raised when N of the last M consecutive windows of a recording are beyond them; reference events follow from the reference HR under the same rule. ' +
        'Top row: the MAE gap between groups; below it, per alarm kind, the gap in event sensitivity (share of reference events a predicted alarm caught) and in false alarms per hour of monitoring, ' +
        'each dot one seed with its bootstrap interval over subjects (resampled within groups). The table below gives the per-group values and the rule.',
      specs: alarms.length > 0 ? [{ id: 'alarm-gaps', spec: alarmGapSpec(alarms, rec.arms.order) }] : [],
      empty: 'No alarm metrics: evaluation.alarms is off, or the window sets do not record window times (re-import them).',
    },
    {
      id: 'embedding-shift',
      title: 'Group separation in the embeddings, before and after mitigation',
      explain:
        'How distinguishable the groups are in the model’s representations, for the HR head’s penultimate layer (z) and the mean-pooled hidden states (pooled). ' +
        'erm is the unmitigated “before” (dashed line); the other bars are “after”. MMD² is the kernel distance between the groups’ embedding distributions, labelled with ' +
        'each seed’s permutation p-value; the silhouette score is near 0 when groups overlap and near 1 when they separate. Lower means the representation carries less group information.',
      specs:
        rec.embeddings.length > 0
          ? [{ id: 'mmd2', spec: embeddingShiftSpec(rec, 'mmd2') }, { id: 'silhouette', spec: embeddingShiftSpec(rec, 'silhouette') }]
          : [],
      empty: 'No embedding metrics were recorded.',
    },
    {
      id: 'projection',
      title: 'Embeddings in 2-D',
      explain: projection
        ? `UMAP projections of a subsample of the '${projection.embedding}' embeddings for ${projection.pair}, coloured by group, one panel per strategy (its lowest seed). ` +
          'Well-mixed colours mean the representation does not separate the groups; axes carry no units.'
        : 'UMAP projections of the embeddings, coloured by group.',
      specs: projection ? [{ id: 'projection', spec: projectionSpec(rec, projection) }] : [],
      empty: 'No projections were recorded.',
    },
    {
      id: 'training',
      title: 'Training curves',
      explain:
        'Top: training loss and validation MAE per epoch, one line per seed, coloured by strategy, one column per fine-tuning domain. ' +
        'Below: the training loss of each group per epoch, one panel per strategy; converging group curves show a strategy equalising the groups during training.' +
        (results.pretraining?.length ? ' Last: the loss of pretraining the foundation model.' : ''),
      specs: [
        ...(rec.epochs.length > 0 ? [{ id: 'training-curves', spec: trainingCurvesSpec(rec) }] : []),
        ...(rec.groupEpochs.length > 0 ? [{ id: 'group-loss', spec: groupLossSpec(rec) }] : []),
        ...(results.pretraining?.length ? [{ id: 'pretraining', spec: pretrainingSpec(results.pretraining) }] : []),
      ],
      empty: 'No training curves were recorded.',
    },
  ];
  return sections;
}

async function sectionHtml(s: ChartSection): Promise<string> {
  const parts = [`<section class="chart" id="${escapeHtml(s.id)}">`, `<h2>${escapeHtml(s.title)}</h2>`, `<p class="explain">${escapeHtml(s.explain)}</p>`];
  if (s.specs.length === 0) parts.push(`<p class="empty">${escapeHtml(s.empty)}</p>`);
  for (const c of s.specs) parts.push(`<figure>${await renderVegaLite(c.spec, c.id)}</figure>`);
  parts.push('</section>');
  return parts.join('\n');
}

export async function renderReport(results: ExperimentResults, findings?: Findings): Promise<string> {
  checkResults(results);
  findings ??= computeFindings(results);
  const rec = reportRecords(results);
  const seeds = new Set(results.cells.map((c) => c.seed)).size;
  const charts: string[] = [];
  for (const s of chartSections(results, rec)) charts.push(await sectionHtml(s) + (s.id === 'alarms' ? `\n${alarmsHtml(results, rec)}` : ''));
  const meta =
    `${results.cells.length} finished cell(s), ${results.failed.length} failed; ${rec.arms.order.length} strategies, ${seeds} seed(s), ` +
    `groups ${rec.groupNames.join(', ')}. Created ${results.created}.`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(`fairtune report: ${results.name}`)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<h1>${escapeHtml(`fairtune report: ${results.name}`)}</h1>
<p class="meta">${escapeHtml(meta)}</p>
<section id="findings">
<h2>Findings</h2>
<p class="explain">What each mitigation changed against plain ERM on each transfer: the change in the gap between the groups’ MAE and in the overall MAE (strategy − ERM, averaged over the seeds both ran), with a paired bootstrap interval over subjects (the same subjects resampled for both arms). Only changes whose interval excludes zero get a sentence; bold marks them in the table.</p>
${findingsHtml(findings)}
</section>
<section id="summary">
<h2>Summary</h2>
<p class="explain">Per transfer (fine-tuning domain → test domain) and strategy: the test MAE, the gap between the groups’ MAE, and the group with the highest MAE.</p>
${summaryHtml(results, rec)}
${failedHtml(results)}
</section>
${charts.join('\n')}
<section id="cost">
<h2>Cost of each strategy</h2>
<p class="explain">Per model size and strategy: wall seconds per cell (all folds), the part the strategy’s own work took (ADV’s adversary, GroupDRO’s update, the samplers), throughput, the process’s peak memory, the overhead against ERM of the same size, and the fairness bought with it: the mean change of the gap against ERM over the transfers both ran, and that change per extra minute of compute per cell. Times are of the machine that ran the cells; compare strategies within one report.</p>
${costHtml(results)}
</section>
<section id="configuration">
<h2>Configuration and data</h2>
<p class="explain">The validated experiment configuration, and per domain the data manifest: windows and subjects per group and how the data were made.</p>
<h3>Configuration</h3>
${configHtml(results)}
${manifestsHtml(results)}
</section>
</body>
</html>
`;
}
