// Progress bars for long work (rate and ETA); quiet when stderr is not a terminal unless asked, so logs
// and CI output stay readable.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  /** Changes the total once it is known (loops learn their step count after setup). */
  setTotal(total: number): void;
  stop(): void;
}

export function progressBar(label: string, total: number, unit = 'steps', enabled?: boolean): Progress {
  enabled ??= process.stderr.isTTY === true || process.env.FAIRTUNE_PROGRESS === '1';
  if (!enabled) return { update() {}, setTotal() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {value}/{total} ${unit} · {rate}/s · ETA {eta_formatted} {info}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  const start = Date.now();
  bar.start(total, 0, { rate: '0.0', info: '' });
  return {
    update(done, payload = {}) {
      const secs = (Date.now() - start) / 1000;
      const info = Object.entries(payload).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toPrecision(4) : v}`).join(' ');
      bar.update(done, { rate: secs > 0 ? (done / secs).toFixed(1) : '0.0', info });
    },
    setTotal(t) {
      if (t !== bar.getTotal()) bar.setTotal(t);
    },
    stop() {
      bar.stop();
    },
  };
}
