/**
 * Line charts as SVG text: pure (returns a string, writes nothing), dependency-free, readable in any
 * browser and embeddable in the playground. Used for noise schedules, loss curves and ELBO terms per
 * timestep.
 */

export interface Series {
  /** Legend label. */
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** CSS colour; a palette colour by default. */
  color?: string;
  /** Draw the points as dots instead of a line (scatter plots). */
  points?: boolean;
}

/** Title, axis labels, size and axis scales of {@link lineChartSvg}. */
export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Logarithmic y axis (base 10); non-positive values are dropped from the line. */
  logY?: boolean;
  width?: number;
  height?: number;
}

/** A colour-blind-safe palette (Okabe & Ito 2008). */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#F0E442',
  '#000000',
];

const MARGIN = { left: 72, right: 16, top: 36, bottom: 48 };

/** "Nice" tick values covering [lo, hi] (1, 2, 5 × 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  // k·step, rounded to 12 digits, so that ticks print as 0.026 rather than 0.026000000000000002.
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++)
    ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/**
 * Tick values (not exponents) for a log axis spanning 10^lo … 10^hi: powers of ten, else 1-2-5 or 1…9 times
 * them, whichever first gives three ticks; within less than about a decade, linear nice ticks.
 */
export function logTicks(lo: number, hi: number): number[] {
  for (const mults of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const ticks: number[] = [];
    for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
      for (const m of mults) {
        const v = m * 10 ** k;
        if (Math.log10(v) >= lo && Math.log10(v) <= hi) ticks.push(v);
      }
    }
    if (ticks.length >= 3) return ticks;
  }
  return niceTicks(10 ** lo, 10 ** hi).filter((v) => v > 0);
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  // Shortest exponent form that tells neighbouring ticks apart: 15000 → 1.5e4, not 2e4.
  if (a >= 1e4 || a < 1e-3) return Number(v.toPrecision(4)).toExponential().replace('e+', 'e');
  return Number(v.toPrecision(4)).toString();
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Renders series as an SVG line chart with axes, ticks, grid and legend. */
export function lineChartSvg(series: readonly Series[], options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const logY = options.logY ?? false;
  const ty = (y: number) => (logY ? Math.log10(y) : y);
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new Error(`series "${s.name}": x and y lengths differ`);
    for (let i = 0; i < s.x.length; i++) {
      const y = s.y[i];
      if (!Number.isFinite(y) || (logY && y <= 0)) continue;
      xMin = Math.min(xMin, s.x[i]);
      xMax = Math.max(xMax, s.x[i]);
      yMin = Math.min(yMin, ty(y));
      yMax = Math.max(yMax, ty(y));
    }
  }
  if (!Number.isFinite(xMin)) throw new Error('lineChartSvg: no finite points to plot');
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const pad = (yMax - yMin) * 0.04;
  yMin -= pad;
  yMax += pad;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (v: number) => MARGIN.top + (1 - (v - yMin) / (yMax - yMin)) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`,
  );
  // Grid and ticks.
  for (const xt of niceTicks(xMin, xMax)) {
    const x = px(xt).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${formatTick(xt)}</text>`);
  }
  const yTicks = logY ? logTicks(yMin, yMax) : niceTicks(yMin, yMax);
  for (const yt of yTicks) {
    const y = py(ty(yt)).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    const label = formatTick(yt);
    out.push(
      `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${label}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}${logY ? ' (log scale)' : ''}</text>`,
  );
  // Lines (NaN, ±Inf and, on a log axis, non-positive values break the line).
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    if (s.points) {
      const dots: string[] = [];
      for (let i = 0; i < s.x.length; i++) {
        const y = s.y[i];
        if (!Number.isFinite(y) || !Number.isFinite(s.x[i]) || (logY && y <= 0)) continue;
        dots.push(`<circle cx="${px(s.x[i]).toFixed(1)}" cy="${py(ty(y)).toFixed(1)}" r="1.6"/>`);
      }
      out.push(`<g fill="${color}" fill-opacity="0.55">${dots.join('')}</g>`);
    } else {
      let d = '';
      let pen = false;
      for (let i = 0; i < s.x.length; i++) {
        const y = s.y[i];
        if (!Number.isFinite(y) || (logY && y <= 0)) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${px(s.x[i]).toFixed(1)} ${py(ty(y)).toFixed(1)}`;
        pen = true;
      }
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    }
    const ly = MARGIN.top + 14 + 16 * k;
    const lx = MARGIN.left + plotW - 150;
    out.push(`<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"/>`);
    out.push(`<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
