/**
 * Convergence order of the deterministic samplers against the exact answer. For data x0 ~ N(μ, s²) the model's
 * data prediction is known in closed form, x̂0(x_t) = μ + α_t s²/(α_t² s² + σ_t²)·(x_t − α_t μ), and the
 * probability-flow ODE keeps the standardised value (x_t − α_t μ)/√(α_t² s² + σ_t²) constant (it transports
 * N(α_t μ, α_t² s² + σ_t²) onto itself affinely), so its solution from x_{T−1} to x_0 is closed-form. Each solver
 * runs N steps from t = T − 1 to t = 0 and its state at t = 0 is compared with the exact one; the final jump to
 * σ = 0, first order by design, is left out.
 *
 * The solvers step in λ = log(α/σ), and their order shows on steps of equal size in λ. On the linear β schedule
 * integer timesteps cannot give that (λ moves by 0.4 between t = 0 and t = 1 alone, and multistep formulas lose
 * their order on very unequal steps: measured slopes 1.6 for 2M and 0.1 for 3M between 20 and 50 steps). So the
 * test schedule has λ linear in t, from +5 at t = 0 to −5 at t = T − 1 = 1000, and N | 1000 steps are exactly
 * uniform in λ.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import {
  dpmSolverPlusPlusUpdate,
  gaussianOdeError,
  logSnrLinearSchedule,
  ODE_SOLVERS,
  type NoiseLevel,
  type OdeSolverConfig,
} from './index.js';

const MU = 0.3;
const S = 0.5;
const schedule = logSnrLinearSchedule(1001, 5, -5);
const odeErrorAtZero = (sampler: OdeSolverConfig, steps: number) =>
  gaussianOdeError(schedule, MU, S, sampler, steps);

/**
 * [name, the slope's range, config]. The orders are those of the update formulas: the first, lower-order steps
 * of the multistep solvers start at λ = −5, where α ≈ 0.007 multiplies the data prediction, and leave no trace.
 * UniPC-p is of order p + 1. diffusers' DPM-Solver++(3M) is of order 2 (see dpmSolver.ts; the local test below),
 * and of order ≥ 3 with D2 at its Taylor value (here even 4: its leading error term happens to be small on this
 * problem). DPM-Solver++(2S) spends two calls per second-order step. Measured slopes between 50 and 200 steps:
 * 0.99, 1.99, 1.96, 2.07, 4.02, 1.99, 2.99, 3.65.
 */
const SOLVERS: (readonly [string, [number, number], OdeSolverConfig])[] = (
  [
    ['DDIM (η = 0)', [0.8, 1.2]],
    ['DPM-Solver++(2M)', [1.8, 2.2]],
    ['DPM-Solver++(2S)', [1.8, 2.2]],
    ["DPM-Solver++(3M), diffusers' update", [1.8, 2.3]],
    ['DPM-Solver++(3M), Taylor D2', [2.8, 4.3]],
    ['UniPC-1', [1.8, 2.2]],
    ['UniPC-2', [2.8, 3.2]],
    ['UniPC-3', [3.3, 4.3]],
  ] as const
).map(([name, range]) => [name, [...range], ODE_SOLVERS[name]] as const);

describe('global convergence on the Gaussian probability-flow ODE (λ-uniform steps)', () => {
  it.each(SOLVERS)('%s', (name, [lo, hi], sampler) => {
    const steps = [10, 20, 50, 200];
    const errors = steps.map((n) => odeErrorAtZero(sampler, n));
    const slope = -Math.log(errors[3] / errors[2]) / Math.log(200 / 50);
    console.info(
      `${name}: errors ${errors.map((e) => e.toExponential(2)).join(', ')}; slope 50→200 ${slope.toFixed(2)}`,
    );
    for (let i = 1; i < steps.length; i++) expect(errors[i]).toBeLessThan(errors[i - 1]);
    expect(slope).toBeGreaterThan(lo);
    expect(slope).toBeLessThan(hi);
  });
});

/** The exact ODE state and data prediction at log-SNR λ for the standardised start value z. */
function exactAt(lambda: number, z: Float64Array): { level: NoiseLevel; x: Float64Array; x0: Float64Array } {
  const alphaBar = 1 / (1 + Math.exp(-2 * lambda));
  const level = { alphaBar, alpha: Math.sqrt(alphaBar), sigma: Math.sqrt(1 - alphaBar), lambda };
  const spread = Math.sqrt(alphaBar * S * S + 1 - alphaBar);
  const x = z.map((v) => level.alpha * MU + spread * v);
  const gain = (level.alpha * S * S) / (spread * spread);
  return { level, x, x0: x.map((v) => MU + gain * (v - level.alpha * MU)) };
}

describe('local order of the DPM-Solver++ update (one step from exact history)', () => {
  // λ = −1: at λ ≈ 0.5 the leading error term of 2M nearly vanishes and the slopes there are erratic.
  const z = Rng.fromSeed(5).fillNormal(new Float64Array(16));
  const localError = (order: number, h: number, taylor: boolean) => {
    const points = Array.from({ length: order }, (_, j) => exactAt(-1 - j * h, z)); // newest first
    const target = exactAt(-1 + h, z);
    const x = dpmSolverPlusPlusUpdate(
      points[0].x,
      points.map((p) => p.x0),
      points.map((p) => p.level),
      target.level,
      taylor,
    );
    return Math.max(...x.map((v, i) => Math.abs(v - target.x[i])));
  };
  it.each([
    ['order 1 (DDIM)', 1, false, 2],
    ['order 2 (2M)', 2, false, 3],
    ["order 3, diffusers' D2: the local error of 2M", 3, false, 3],
    ['order 3, Taylor D2', 3, true, 4],
  ] as const)('%s: local error O(h^%i)', (name, order, taylor, expected) => {
    const [e1, e2] = [localError(order, 0.05, taylor), localError(order, 0.025, taylor)];
    const slope = Math.log2(e1 / e2);
    console.info(
      `DPM-Solver++ ${name}: local errors ${e1.toExponential(2)}, ${e2.toExponential(2)}; slope ${slope.toFixed(2)}`,
    );
    // Measured: 2.03, 3.01, 3.10, 4.02.
    expect(Math.abs(slope - expected)).toBeLessThan(0.2);
  });
});
