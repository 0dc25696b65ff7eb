// Bayesian inference in closed form: a posterior, its credible interval and the posterior predictive.
// Usage: node dist/examples/bayes.js
import {
  betaBernoulliPosterior,
  betaBernoulliPredictive,
  betaCredibleInterval,
  normalCentralInterval,
  normalKnownVariancePosterior,
  normalKnownVariancePredictive,
} from 'elbo';

// A coin: uniform prior Beta(1, 1), then 7 heads in 10 throws → Beta(8, 4).
const coin = betaBernoulliPosterior({ a: 1, b: 1 }, 7, 10);
const ci = betaCredibleInterval(coin, 0.95);
console.log(
  `coin: Beta(${coin.a}, ${coin.b}), 95 % interval [${ci.lower.toFixed(3)}, ${ci.upper.toFixed(3)}]`,
);
console.log(`P(next throw is heads | data) = ${betaBernoulliPredictive(coin).toFixed(4)}`); // 8/12

// A mean with known noise σ² = 1: prior N(0, 10), four measurements.
const mu = normalKnownVariancePosterior({ mean: 0, variance: 10 }, 1, [2.1, 1.7, 2.6, 1.9]);
const next = normalCentralInterval(normalKnownVariancePredictive(mu, 1), 0.95);
console.log(`mean: N(${mu.mean.toFixed(3)}, ${mu.variance.toFixed(4)})`);
console.log(`next measurement, 95 %: [${next.lower.toFixed(3)}, ${next.upper.toFixed(3)}]`);
