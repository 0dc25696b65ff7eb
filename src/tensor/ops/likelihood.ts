/**
 * Differentiable log-likelihoods and the Gaussian KL for latent-variable models, one value per example:
 * the first axis is the batch, every other axis is summed (float64 accumulation). Written as plain loops
 * over the heap: the VAE's tensors are small next to its matrix products.
 *
 * [KW14] Kingma & Welling, Auto-Encoding Variational Bayes, arXiv:1312.6114v11 (Appendix B: KL to N(0, I);
 * Appendix C.1: Bernoulli decoder; Appendix C.2: Gaussian decoder)
 */
import { expm1MinusX, softplus } from '../../math/special.js';
import type { Tensor } from '../tensor.js';

const LOG_2PI = Math.log(2 * Math.PI);

function batchRows(t: Tensor, op: string): [rows: number, cols: number] {
  if (t.shape.length < 1 || t.shape[0] < 1)
    throw new Error(`${op}: expected a batch, got [${t.shape.join(', ')}]`);
  return [t.shape[0], t.size / t.shape[0]];
}

function assertSameSize(a: Tensor, b: Tensor, op: string, names: [string, string]): void {
  if (a.size !== b.size || a.shape[0] !== b.shape[0]) {
    throw new Error(
      `${op}: ${names[0]} [${a.shape.join(', ')}] and ${names[1]} [${b.shape.join(', ')}] differ in size or batch`,
    );
  }
}

/** log Bernoulli(x; σ(l)) = −x·softplus(−l) − (1 − x)·softplus(l): two non-positive terms, stable for any l. */
function bernoulliTerm(x: number, l: number): number {
  if (x === 1) return -softplus(-l);
  if (x === 0) return -softplus(l);
  return -x * softplus(-l) - (1 - x) * softplus(l);
}

/**
 * log p(x | l) = Σ_j x_j l_j − softplus(l_j) per example, for a Bernoulli decoder with logits l (the batch
 * axis first; x of the same size, usually 0/1; for x ∈ [0, 1] it is the negative cross-entropy).
 * Returns [batch]. Backward: ∂/∂l_j = x_j − σ(l_j), ∂/∂x_j = l_j.
 * @see [KW14] Appendix C.1: log p(x|z) = Σ_i x_i log y_i + (1 − x_i) log(1 − y_i), y = σ(l)
 */
export function bernoulliLogLikelihood(logits: Tensor, x: Tensor): Tensor {
  const op = 'bernoulliLogLikelihood';
  const [rows, cols] = batchRows(logits, op);
  assertSameSize(logits, x, op, ['logits', 'x']);
  const ctx = logits.ctx;
  const y = ctx.empty([rows]);
  const [lv, xv, yv] = [logits.view(), x.view(), y.view()];
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = r * cols; j < (r + 1) * cols; j++) s += bernoulliTerm(xv[j], lv[j]);
    yv[r] = s;
  }
  return ctx.record(y, [logits, x], (gy) => {
    const g = gy.view();
    let gl: Tensor | null = null;
    let gx: Tensor | null = null;
    if (logits.requiresGrad) {
      gl = ctx.empty(logits.shape);
      const [ls, xs, o] = [logits.view(), x.view(), gl.view()];
      for (let r = 0; r < rows; r++) {
        for (let j = r * cols; j < (r + 1) * cols; j++) {
          const l = ls[j];
          const sig = l >= 0 ? 1 / (1 + Math.exp(-l)) : Math.exp(l) / (1 + Math.exp(l));
          o[j] = g[r] * (xs[j] - sig);
        }
      }
    }
    if (x.requiresGrad) {
      gx = ctx.empty(x.shape);
      const [ls, o] = [logits.view(), gx.view()];
      for (let r = 0; r < rows; r++) for (let j = r * cols; j < (r + 1) * cols; j++) o[j] = g[r] * ls[j];
    }
    return [gl, gx];
  });
}

/**
 * log N(x; μ, σ²I) = −½ Σ_j (log 2π + logVar_j + (x_j − μ_j)² e^{−logVar_j}) per example, for a diagonal
 * Gaussian; logVar is a tensor of the same size or one fixed number. Returns [batch].
 * Backward: ∂/∂μ = (x − μ) e^{−logVar}, ∂/∂x = −∂/∂μ, ∂/∂logVar = ½ ((x − μ)² e^{−logVar} − 1).
 * @see [KW14] Appendix C.2: log p(x|z) = log N(x; μ, σ²I)
 */
export function gaussianLogDensity(x: Tensor, mean: Tensor, logVar: Tensor | number): Tensor {
  const op = 'gaussianLogDensity';
  const [rows, cols] = batchRows(mean, op);
  assertSameSize(mean, x, op, ['mean', 'x']);
  if (typeof logVar === 'number') {
    if (!Number.isFinite(logVar)) throw new Error(`${op}: logVar must be finite, got ${logVar}`);
  } else {
    assertSameSize(mean, logVar, op, ['mean', 'logVar']);
  }
  const ctx = mean.ctx;
  const y = ctx.empty([rows]);
  const [xv, mv, yv] = [x.view(), mean.view(), y.view()];
  const lvv = typeof logVar === 'number' ? null : logVar.view();
  const fixedInvVar = typeof logVar === 'number' ? Math.exp(-logVar) : 0;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = r * cols; j < (r + 1) * cols; j++) {
      const d = xv[j] - mv[j];
      const lv = lvv ? lvv[j] : (logVar as number);
      s += LOG_2PI + lv + d * d * (lvv ? Math.exp(-lv) : fixedInvVar);
    }
    yv[r] = -0.5 * s;
  }
  const inputs = typeof logVar === 'number' ? [x, mean] : [x, mean, logVar];
  return ctx.record(y, inputs, (gy) => {
    const g = gy.view();
    const [xs, ms] = [x.view(), mean.view()];
    const lvs = typeof logVar === 'number' ? null : logVar.view();
    // dμ = (x − μ)/σ², the common factor of all three gradients.
    const gMean = ctx.empty(mean.shape);
    const gm = gMean.view();
    for (let r = 0; r < rows; r++) {
      for (let j = r * cols; j < (r + 1) * cols; j++) {
        const inv = lvs ? Math.exp(-lvs[j]) : fixedInvVar;
        gm[j] = g[r] * (xs[j] - ms[j]) * inv;
      }
    }
    let gx: Tensor | null = null;
    if (x.requiresGrad) {
      gx = ctx.empty(x.shape);
      const o = gx.view();
      for (let i = 0; i < o.length; i++) o[i] = -gm[i];
    }
    let glv: Tensor | null = null;
    if (lvs && (logVar as Tensor).requiresGrad) {
      glv = ctx.empty((logVar as Tensor).shape);
      const o = glv.view();
      for (let r = 0; r < rows; r++) {
        for (let j = r * cols; j < (r + 1) * cols; j++) {
          const d = xs[j] - ms[j];
          o[j] = 0.5 * g[r] * (d * d * Math.exp(-lvs[j]) - 1);
        }
      }
    }
    const gmOut = mean.requiresGrad ? gMean : null;
    if (!gmOut) gMean.dispose();
    return lvs ? [gx, gmOut, glv] : [gx, gmOut];
  });
}

/**
 * KL(N(μ, diag e^{logVar}) ‖ N(0, I)) = ½ Σ_j (μ_j² + e^{logVar_j} − 1 − logVar_j) per example, in nats.
 * Returns [batch]. Backward: ∂/∂μ = μ, ∂/∂logVar = ½ (e^{logVar} − 1).
 * @see [KW14] Appendix B: −D_KL = ½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)
 */
export function klToStandardNormalPerExample(mean: Tensor, logVar: Tensor): Tensor {
  const op = 'klToStandardNormalPerExample';
  const [rows, cols] = batchRows(mean, op);
  assertSameSize(mean, logVar, op, ['mean', 'logVar']);
  const ctx = mean.ctx;
  const y = ctx.empty([rows]);
  const [mv, lvv, yv] = [mean.view(), logVar.view(), y.view()];
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = r * cols; j < (r + 1) * cols; j++) s += mv[j] * mv[j] + expm1MinusX(lvv[j]);
    yv[r] = 0.5 * s;
  }
  return ctx.record(y, [mean, logVar], (gy) => {
    const g = gy.view();
    let gm: Tensor | null = null;
    let glv: Tensor | null = null;
    if (mean.requiresGrad) {
      gm = ctx.empty(mean.shape);
      const [ms, o] = [mean.view(), gm.view()];
      for (let r = 0; r < rows; r++) for (let j = r * cols; j < (r + 1) * cols; j++) o[j] = g[r] * ms[j];
    }
    if (logVar.requiresGrad) {
      glv = ctx.empty(logVar.shape);
      const [ls, o] = [logVar.view(), glv.view()];
      for (let r = 0; r < rows; r++)
        for (let j = r * cols; j < (r + 1) * cols; j++) o[j] = 0.5 * g[r] * Math.expm1(ls[j]);
    }
    return [gm, glv];
  });
}
