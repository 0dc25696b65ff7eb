import { describe, expect, it } from 'vitest';
import { lineChartSvg, logTicks, niceTicks } from './lineChart.js';

describe('niceTicks', () => {
  it('covers the range with 1-2-5 steps', () => {
    expect(niceTicks(0, 1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(-1, 1, 4)).toEqual([-1, -0.5, 0, 0.5, 1]);
  });
});

describe('logTicks', () => {
  it('labels powers of ten over many decades, 1-2-5 over one or two, linear steps within a decade', () => {
    expect(logTicks(-3, 2)).toEqual([0.001, 0.01, 0.1, 1, 10, 100]);
    expect(logTicks(Math.log10(0.03), Math.log10(0.9))).toEqual([0.05, 0.1, 0.2, 0.5]);
    expect(logTicks(Math.log10(0.0195), Math.log10(0.031))).toEqual([0.02, 0.022, 0.024, 0.026, 0.028, 0.03]);
  });
});

describe('lineChartSvg', () => {
  it('draws one path per series, in data order, and a legend entry each', () => {
    const svg = lineChartSvg(
      [
        { name: 'a', x: [0, 1, 2], y: [0, 1, 4] },
        { name: 'b<c', x: [0, 1, 2], y: [4, 1, 0] },
      ],
      { title: 'T', xLabel: 'x', yLabel: 'y' },
    );
    const paths = svg.match(/<path d="([^"]*)"/g) ?? [];
    expect(paths).toHaveLength(2);
    // Series a rises: its first point is lower on the page (larger SVG y) than its last.
    const pts = [...paths[0]!.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => Number(m[2]));
    expect(pts[0]).toBeGreaterThan(pts[2]);
    expect(svg).toContain('b&lt;c');
  });

  it('breaks the line at non-finite values and drops non-positive values on a log axis', () => {
    const svg = lineChartSvg([{ name: 's', x: [0, 1, 2, 3], y: [1, 0, 10, 100] }], {
      title: 'T',
      xLabel: 'x',
      yLabel: 'y',
      logY: true,
    });
    const d = /<path d="([^"]*)"/.exec(svg)![1];
    expect(d.match(/M/g)).toHaveLength(2);
    expect(d.match(/L/g)).toHaveLength(1);
  });

  it('rejects series with mismatched lengths or nothing to draw', () => {
    expect(() =>
      lineChartSvg([{ name: 's', x: [0, 1], y: [1] }], { title: '', xLabel: '', yLabel: '' }),
    ).toThrow(/lengths differ/);
    expect(() =>
      lineChartSvg([{ name: 's', x: [0], y: [Number.NaN] }], { title: '', xLabel: '', yLabel: '' }),
    ).toThrow(/no finite points/);
  });
});

describe('tick labels', () => {
  it('label large ticks in the shortest exponent form that keeps them distinct', () => {
    const svg = lineChartSvg([{ name: 's', x: [0, 21000], y: [1, 2] }], {
      title: 'T',
      xLabel: 'x',
      yLabel: 'y',
    });
    const labels = [...svg.matchAll(/text-anchor="middle">([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(expect.arrayContaining(['5000', '1e4', '1.5e4', '2e4']));
  });
});

describe('log-axis tick labels', () => {
  it('a loss curve within one decade still gets labelled ticks, placed from bottom to top in order', () => {
    const svg = lineChartSvg([{ name: 's', x: [0, 1, 2], y: [0.021, 0.025, 0.029] }], {
      title: 'T',
      xLabel: 'x',
      yLabel: 'y',
      logY: true,
    });
    const ticks = [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" text-anchor="end"[^>]*>([^<]*)</g)].map(
      (m) => ({
        y: Number(m[1]),
        label: Number(m[2]),
      }),
    );
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < ticks.length; i++) {
      expect(ticks[i].label).toBeGreaterThan(ticks[i - 1].label);
      expect(ticks[i].y).toBeLessThan(ticks[i - 1].y);
    }
  });
});
