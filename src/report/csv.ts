// A minimal RFC 4180 CSV writer. A field is quoted when it holds a comma, a quote, a line break or
// leading/trailing white space (which some readers would trim); quotes inside are doubled. Lines end
// with '\n', which every CSV reader in use (csv-parse, pandas, R, spreadsheets) accepts.

export type CsvValue = string | number | boolean | null | undefined;

/** One field: null/undefined become an empty field; numbers keep full precision (String(x)). */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A whole CSV text: the header, then one line per row; every row must have the header's width. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const lines = [header.map(csvField).join(',')];
  rows.forEach((row, i) => {
    if (row.length !== header.length) throw new Error(`toCsv: row ${i} has ${row.length} fields, the header has ${header.length}`);
    lines.push(row.map(csvField).join(','));
  });
  return lines.join('\n') + '\n';
}
