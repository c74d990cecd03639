// The findings section of the report (computed in findings.ts): plain sentences for the changes whose interval
// excludes zero, the table of every comparison with ERM, and the transfers too small to say anything about.
import { escapeHtml } from './escape';
import type { Findings } from './findings';
import type { Interval } from '../fairness/metrics/bootstrap';

const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;

function cell(i: Interval): string {
  const clear = i.lo > 0 || i.hi < 0;
  const text = `${signed(i.estimate)} [${signed(i.lo)}, ${signed(i.hi)}]`;
  return `<td class="num">${clear ? `<strong>${escapeHtml(text)}</strong>` : escapeHtml(text)}</td>`;
}

export function findingsHtml(f: Findings): string {
  const pct = `${Math.round(f.level * 100)}%`;
  const parts: string[] = [];
  const sentences = f.findings.filter((x) => x.sentence !== null);
  if (sentences.length > 0) parts.push(`<ul class="findings">${sentences.map((x) => `<li>${escapeHtml(x.sentence!)}</li>`).join('')}</ul>`);
  else if (f.findings.length > 0) parts.push(`<p class="empty">No strategy changed the gap or the MAE against ERM on any transfer by more than its ${pct} interval allows.</p>`);
  else parts.push('<p class="empty">No comparison with ERM could be made (see below).</p>');
  if (f.findings.length > 0) {
    const rows = f.findings.map((x) => `<tr><td>${escapeHtml(`${x.source} → ${x.target}`)}</td><td>${escapeHtml(x.size)}</td><td>${escapeHtml(x.arm)}</td>` +
      `<td class="num">${x.seeds.length}</td><td class="num">${x.subjects}</td>${cell(x.gapChange)}${cell(x.maeChange)}</tr>`);
    parts.push(`<table class="findings-table"><thead><tr><th>transfer</th><th>size</th><th>strategy</th><th>seeds</th><th>subjects</th>` +
      `<th>Δ gap vs ERM, bpm [${pct}]</th><th>Δ MAE vs ERM, bpm [${pct}]</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  }
  if (f.tooSmall.length > 0) {
    const items = f.tooSmall.map((t) => `<li>${escapeHtml(`${t.source} → ${t.target} (${t.size}): ${t.groups.map((g) => `${g.group} ${g.subjects}`).join(', ')} subject(s)`)}</li>`);
    parts.push(`<p class="note">Too few evaluated subjects per group (fewer than ${f.minSubjectsPerGroup}) to say anything:</p><ul class="note">${items.join('')}</ul>`);
  }
  if (f.skipped.length > 0) {
    const items = f.skipped.map((s) => `<li>${escapeHtml(`${s.source} → ${s.target} (${s.size}), ${s.arm}: ${s.reason}`)}</li>`);
    parts.push(`<p class="note">Not compared:</p><ul class="note">${items.join('')}</ul>`);
  }
  return parts.join('\n');
}
