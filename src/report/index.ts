// The report layer: an experiment's results as an HTML report with SVG charts, a metrics CSV, results JSON,
// and a plain-text summary table for the terminal.
export { renderReport, chartSections } from './html';
export { metricsCsv, metricsCsvHeader } from './metrics-csv';
export { writeReport, writeFileAtomic } from './write';
export { summaryTable, summaryRows, type SummaryRow } from './summary';
export { checkResults } from './validate';
export { toCsv, csvField, type CsvValue } from './csv';
export { escapeHtml } from './escape';
