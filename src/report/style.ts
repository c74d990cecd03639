// The report's stylesheet, inlined so the HTML file stands alone.
export const REPORT_CSS = `
body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 1320px; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 19px; margin: 32px 0 4px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #666; font-size: 13px; margin-top: 0; }
.explain { color: #444; font-size: 14px; max-width: 980px; margin: 4px 0 10px; }
.note, .empty { color: #666; font-size: 13px; }
figure { margin: 8px 0 16px; overflow-x: auto; }
figure svg { display: block; max-width: none; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border: 1px solid #d8d8d8; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafafa; }
pre.config { background: #f7f7f7; border: 1px solid #e2e2e2; padding: 10px; font-size: 12px; max-height: 600px; overflow: auto; }
.failed td { color: #a00; }
`;
