// Forward vs reverse KL: fit one Gaussian to a two-mode mixture both ways.
// Usage: node dist/examples/kl-fit.js [reverse-KL steps, default 2000]
import { fitForwardKl, fitReverseKl, Rng, sampleMixture } from 'elbo';

const steps = Number(process.argv[2] ?? 2000);
const p = { weights: [0.4, 0.6], means: [-2.5, 2], stds: [0.6, 0.8] }; // the mixture of `elbo demo kl`
const rng = Rng.fromSeed(0);
// argmin KL(p ‖ q) is moment matching: q covers both modes (mean 0.2, std ≈ 2.3).
const forward = fitForwardKl(sampleMixture(p, 100_000, rng));
// argmin KL(q ‖ p) by reparameterised gradients: q settles on the mode it starts near (mean ≈ 2, std ≈ 0.8).
const reverse = fitReverseKl(p, { init: { mean: 0, std: 1 }, steps, samples: 32, lr: 0.05 }, rng);
console.log(`forward KL fit: mean ${forward.mean.toFixed(3)}, std ${forward.std.toFixed(3)}`);
console.log(`reverse KL fit: mean ${reverse.mean.toFixed(3)}, std ${reverse.std.toFixed(3)}`);
