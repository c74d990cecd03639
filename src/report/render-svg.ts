// Vega-lite spec → standalone SVG string, rendered headless in Node (no canvas, no browser): vega-lite
// compiles to a vega spec, a vega View without a renderer runs the dataflow and serialises the scenegraph.
import * as vega from 'vega';
import * as vl from 'vega-lite';

/** Shared look: fonts and sizes that stay legible when the page is screenshotted or printed. */
export const CHART_CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  header: { labelFontSize: 12, titleFontSize: 12, labelFontWeight: 'bold' as const },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
  view: { stroke: '#cccccc' },
};

/**
 * Several SVGs share one HTML document, so the ids vega emits (clip paths, gradients) would collide between
 * charts and one chart could clip with another's path. Every id, and each reference to it, is renamed to
 * `<prefix>-<n>` in order of appearance; that also makes the output independent of vega's global id
 * counters, so the same results always give the same bytes.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  const names = new Map<string, string>();
  for (const m of svg.matchAll(/\bid="([^"]+)"/g)) if (!names.has(m[1])) names.set(m[1], `${prefix}-${names.size + 1}`);
  const rename = (id: string) => names.get(id) ?? id;
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${rename(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${rename(id)})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${rename(id)}"`);
}

/** Render one vega-lite spec to SVG; `id` prefixes the SVG's ids and names the chart in errors. */
export async function renderVegaLite(spec: vl.TopLevelSpec, id: string): Promise<string> {
  try {
    const withConfig = { ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as vl.TopLevelSpec;
    const compiled = vl.compile(withConfig).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    try {
      const svg = await view.toSVG();
      return prefixSvgIds(svg, id).replace('<svg ', `<svg role="img" aria-label="${id}" `);
    } finally {
      view.finalize();
    }
  } catch (e) {
    throw new Error(`report: chart "${id}" failed to render: ${(e as Error).message}`);
  }
}
