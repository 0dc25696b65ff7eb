/**
 * `npm run fuzz`: every fuzz target on thousands of mutated inputs (FUZZ_RUNS per target, default 2000; FUZZ_SEED,
 * default 19), the shipped 18 MB DDPM and the VAE among the seeds, and a table of the outcomes. Exit code 1 if any
 * target had a crash, a hang or a silent acceptance.
 */
import { formatTallies, runTarget, type Tally } from './harness.js';
import { createFuzzFixture, fuzzTargets } from './targets.js';

const runs = Number(process.env.FUZZ_RUNS ?? 2000);
const seed = Number(process.env.FUZZ_SEED ?? 19);
const fixture = await createFuzzFixture();
const tallies: Tally[] = [];
try {
  for (const target of fuzzTargets(fixture, true)) {
    const t = await runTarget(target, runs, seed);
    tallies.push(t);
    process.stderr.write(`${t.target}: ${t.cases} cases in ${t.seconds.toFixed(1)} s\n`);
  }
} finally {
  fixture.dispose();
}
process.stdout.write(`fuzz: ${runs} cases per target, seed ${seed}\n${formatTallies(tallies)}\n`);
process.exitCode = tallies.some((t) => t.crashes + t.hangs + t.silentAcceptances > 0) ? 1 : 0;
