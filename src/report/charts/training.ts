// Chart 6: training curves. (a) train loss and validation MAE per epoch, one line per cell (seed), coloured by
// arm, one column per source; (b) the train loss of each group per epoch, one panel per arm and source, which
// shows whether a strategy closes the gap during training; (c) the pretraining loss when the experiment
// pretrained its own foundation model.
import type { TopLevelSpec } from 'vega-lite';
import { armColours, groupColours } from '../colors';
import type { ReportRecords } from '../records';
import { uniqueInOrder } from '../arms';
import { byRank, withRanks } from './order';

const METRICS = ['train loss', 'validation MAE (bpm)'];

export function trainingCurvesSpec(rec: ReportRecords): TopLevelSpec {
  const rows = rec.epochs.flatMap((e) => [
    { ...e, metric: METRICS[0], value: e.trainLoss },
    ...(e.valMae === null ? [] : [{ ...e, metric: METRICS[1], value: e.valMae }]),
  ]);
  return {
    title: 'Training loss and validation MAE per epoch (one line per seed)',
    data: { values: withRanks(rows, { metric: METRICS, source: uniqueInOrder(rows.map((r) => r.source)) }) },
    facet: {
      row: { field: 'metric', type: 'nominal', sort: byRank('metric'), title: null },
      column: { field: 'source', type: 'nominal', sort: byRank('source'), title: 'fine-tuned on' },
    },
    spec: {
      width: 320,
      height: 170,
      mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.6, opacity: 0.85 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'arm', type: 'nominal', scale: armColours(rec.arms.order), title: 'strategy' },
        detail: { field: 'cell', type: 'nominal' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

export function groupLossSpec(rec: ReportRecords): TopLevelSpec {
  return {
    title: 'Training loss per group per epoch (one line per group and seed)',
    data: { values: withRanks(rec.groupEpochs, { source: uniqueInOrder(rec.groupEpochs.map((e) => e.source)), arm: rec.arms.order }) },
    facet: {
      row: { field: 'source', type: 'nominal', sort: byRank('source'), title: 'fine-tuned on' },
      column: { field: 'arm', type: 'nominal', sort: byRank('arm'), title: null },
    },
    spec: {
      width: 190,
      height: 130,
      mark: { type: 'line', strokeWidth: 1.4, opacity: 0.85 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'loss', type: 'quantitative', title: 'train loss', scale: { zero: false } },
        color: { field: 'group', type: 'nominal', scale: groupColours(rec.groupNames), title: 'group' },
        detail: { field: 'cell', type: 'nominal' },
      },
    },
  };
}

export function pretrainingSpec(points: readonly { epoch: number; loss: number }[]): TopLevelSpec {
  return {
    title: 'Pretraining loss per epoch',
    data: { values: points.map((p) => ({ ...p })) },
    width: 420,
    height: 160,
    mark: { type: 'line', point: { color: '#333333' }, color: '#333333' },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'loss', type: 'quantitative', scale: { zero: false } },
    },
  };
}
