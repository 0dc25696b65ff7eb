/**
 * Progress for long work: a cli-progress bar (rate, ETA, and any live values) on a terminal; on a pipe or log
 * file, one plain line every `logEvery` updates so background runs leave a readable log.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, values?: Record<string, string | number>): void;
  stop(): void;
}

export function startProgress(label: string, total: number, start = 0, logEvery = 50): Progress {
  const t0 = performance.now();
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} {bar} {value}/{total} | {rate}/s | ETA {eta_formatted} | {info}`,
        etaBuffer: 50,
        hideCursor: true,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, start, { rate: '—', info: '' });
    return {
      update(done, values = {}) {
        const rate = (done - start) / ((performance.now() - t0) / 1000);
        bar.update(done, { rate: rate.toFixed(2), info: formatValues(values) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let last = start;
  return {
    update(done, values = {}) {
      if (done - last < logEvery && done !== total) return;
      last = done;
      const secs = (performance.now() - t0) / 1000;
      const rate = (done - start) / secs;
      const eta = rate > 0 ? (total - done) / rate : Infinity;
      process.stderr.write(
        `${label} ${done}/${total} | ${rate.toFixed(2)}/s | elapsed ${formatSeconds(secs)} | ETA ${formatSeconds(eta)} | ${formatValues(values)}\n`,
      );
    },
    stop() {},
  };
}

function formatValues(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(
      ([k, v]) =>
        `${k} ${typeof v === 'number' ? (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(4)) : v}`,
    )
    .join(' | ');
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(sec).padStart(2, '0')}s`
      : `${sec}s`;
}
