// The report renders in a real browser: scripts/screenshot-report.sh shoots it with headless Chromium, and
// the PNG is decoded to check it holds a page of charts, not a blank or single-colour image. Needs chromium
// (installed on this machine and in CI).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeReport } from '../../src/report';
import { makeResults } from './fixture';
import { decodePng } from './png';

const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'screenshot-report.sh');

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fairtune-shot-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('screenshot of report.html', () => {
  test('chromium renders the charts', async () => {
    const { html } = await writeReport(tmp, makeResults());
    const png = path.join(tmp, 'report.png');
    execFileSync(SCRIPT, [html, png], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 150000 });
    const bytes = fs.readFileSync(png);
    expect(bytes.length).toBeGreaterThan(20 * 1024);

    const img = decodePng(bytes);
    expect([img.width, img.height]).toEqual([1400, 3000]);
    const { width, height, channels, pixels } = img;
    // Colours in use (RGB), and the share of pixels that are not page white.
    const colours = new Set<number>();
    let ink = 0;
    for (let i = 0; i < width * height; i++) {
      const p = i * channels;
      const rgb = channels >= 3 ? (pixels[p] << 16) | (pixels[p + 1] << 8) | pixels[p + 2] : pixels[p] * 0x010101;
      colours.add(rgb);
      if (rgb !== 0xffffff) ink++;
    }
    // Charts bring many colours (palettes, anti-aliased text and lines); a blank or failed page has one or two.
    expect(colours.size).toBeGreaterThan(200);
    expect(ink / (width * height)).toBeGreaterThan(0.05);
    // The palette colours of the strategies and groups are on the page (exact fills of bars and cells).
    const hex = (s: string) => parseInt(s.slice(1), 16);
    for (const c of ['#c2255c', '#0b7285', '#8c8c8c']) expect(colours.has(hex(c)) || nearColour(pixels, channels, hex(c))).toBe(true);
    // Rows differ: content spreads down the page rather than one repeated band.
    const rowKeys = new Set<string>();
    for (let y = 0; y < height; y += 10) rowKeys.add(Buffer.from(pixels.subarray(y * width * channels, (y + 1) * width * channels)).toString('base64'));
    expect(rowKeys.size).toBeGreaterThan(150);
  }, 180000);
});

/** Whether some pixel is within ±8 per channel of `rgb` (bars are drawn with opacity 0.85 over white). */
function nearColour(pixels: Uint8Array, channels: number, rgb: number): boolean {
  const r = rgb >> 16;
  const g = (rgb >> 8) & 0xff;
  const b = rgb & 0xff;
  // Bars at opacity 0.85 over white: c' = 0.85 c + 0.15 · 255.
  const blend = (c: number) => Math.round(0.85 * c + 0.15 * 255);
  for (const [tr, tg, tb] of [[r, g, b], [blend(r), blend(g), blend(b)]]) {
    for (let p = 0; p + 2 < pixels.length; p += channels) {
      if (Math.abs(pixels[p] - tr) <= 8 && Math.abs(pixels[p + 1] - tg) <= 8 && Math.abs(pixels[p + 2] - tb) <= 8) return true;
    }
  }
  return false;
}
