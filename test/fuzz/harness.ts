/**
 * The fuzz harness: runs a target on mutated inputs drawn by fast-check from a fixed seed and sorts every case:
 *   - clean error: the documented error class (FormatError from the library, exit code 2 with one `elbo: …` line
 *     from the CLI), with a one-line message;
 *   - valid: the target accepted the input and its result passed the target's own checks;
 *   - crash: any other exception, a multi-line or empty message, a changed pre-existing file, or a result that
 *     failed the target's checks;
 *   - hang: the case took more than 5 s, or the process's peak memory grew by more than 1 GB;
 *   - silent acceptance: a mutation known to make the input invalid (Mutant.mustFail) was accepted.
 * Used by test/fuzz.test.ts (a few hundred cases per target, in `npm test`) and test/fuzz/main.ts (`npm run fuzz`).
 */
import fc from 'fast-check';
import type { Mutant } from './mutations.js';

export const CASE_TIME_LIMIT_MS = 5000;
export const MEMORY_LIMIT_BYTES = 1 << 30;

/** What a target's run reports for one input when it does not throw. */
export type RunResult =
  | { kind: 'valid' }
  | { kind: 'clean-error'; message: string }
  /** The target detected a broken property itself (a changed file, a bad result). */
  | { kind: 'crash'; message: string };

export interface FuzzTarget {
  name: string;
  /** Mutated inputs. */
  inputs: fc.Arbitrary<Mutant>;
  /** Runs the target on one input. A thrown exception is a crash unless `isCleanError` says otherwise. */
  run(m: Mutant): Promise<RunResult> | RunResult;
  /** The documented error class of a library target (e.g. FormatError). */
  isCleanError?: (err: unknown) => boolean;
  /** Whether a certainly-invalid mutation of this kind must be refused by this target (default: all). */
  mustRefuse?: (m: Mutant) => boolean;
}

export interface Tally {
  target: string;
  cases: number;
  cleanErrors: number;
  valid: number;
  crashes: number;
  hangs: number;
  silentAcceptances: number;
  /** The first few problems, with the mutation that caused them. */
  problems: string[];
  seconds: number;
}

/** A one-line message: no newline, not empty. */
export function isOneLine(message: string): boolean {
  return message.trim() !== '' && !message.trim().includes('\n');
}

/** Runs `target` on `numRuns` inputs drawn with `seed`; never throws for a target's failure, it counts it. */
export async function runTarget(target: FuzzTarget, numRuns: number, seed: number): Promise<Tally> {
  const tally: Tally = {
    target: target.name,
    cases: 0,
    cleanErrors: 0,
    valid: 0,
    crashes: 0,
    hangs: 0,
    silentAcceptances: 0,
    problems: [],
    seconds: 0,
  };
  const note = (what: string, m: Mutant, detail: string) => {
    if (tally.problems.length < 5)
      tally.problems.push(`${what}: ${m.what}: ${detail.split('\n')[0].slice(0, 300)}`);
  };
  const t0 = performance.now();
  const baseRssKb = process.resourceUsage().maxRSS;
  // One input at a time (fc.sample would hold all of them, thousands of copies of an 18 MB file, at once); the
  // property never fails, it only counts, so fast-check never shrinks.
  const runCase = async (m: Mutant): Promise<void> => {
    tally.cases++;
    const peakBeforeKb = process.resourceUsage().maxRSS;
    const start = performance.now();
    let result: RunResult;
    try {
      result = await target.run(m);
    } catch (err) {
      result =
        target.isCleanError?.(err) === true
          ? { kind: 'clean-error', message: (err as Error).message }
          : {
              kind: 'crash',
              message: `uncaught ${(err as Error)?.name}: ${(err as Error)?.message ?? String(err)}`,
            };
    }
    const ms = performance.now() - start;
    // Peak memory is a process-wide maximum: a case is over the limit if it pushed the peak past it.
    const peakKb = process.resourceUsage().maxRSS;
    const grownBytes = (peakKb - baseRssKb) * 1024;
    if (ms > CASE_TIME_LIMIT_MS || (grownBytes > MEMORY_LIMIT_BYTES && peakKb > peakBeforeKb)) {
      tally.hangs++;
      note('hang', m, `${ms.toFixed(0)} ms, peak memory +${(grownBytes / 2 ** 20).toFixed(0)} MB`);
      return;
    }
    if (result.kind === 'clean-error' && !isOneLine(result.message)) {
      result = { kind: 'crash', message: `not a one-line message: ${JSON.stringify(result.message)}` };
    }
    switch (result.kind) {
      case 'crash':
        tally.crashes++;
        note('crash', m, result.message);
        break;
      case 'clean-error':
        tally.cleanErrors++;
        break;
      case 'valid':
        if (m.mustFail && (target.mustRefuse?.(m) ?? true)) {
          tally.silentAcceptances++;
          note('silent acceptance', m, 'accepted');
        } else tally.valid++;
        break;
    }
  };
  await fc.assert(
    fc.asyncProperty(target.inputs, async (m) => {
      await runCase(m);
    }),
    { seed, numRuns },
  );
  tally.seconds = (performance.now() - t0) / 1000;
  return tally;
}

/** The tallies as a fixed-width table. */
export function formatTallies(tallies: readonly Tally[]): string {
  const head = [
    'target',
    'cases',
    'clean errors',
    'valid',
    'crashes',
    'hangs',
    'silent acceptances',
    'seconds',
  ];
  const rows = tallies.map((t) => [
    t.target,
    String(t.cases),
    String(t.cleanErrors),
    String(t.valid),
    String(t.crashes),
    String(t.hangs),
    String(t.silentAcceptances),
    t.seconds.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const problems = tallies.flatMap((t) => t.problems.map((p) => `  ${t.target}: ${p}`));
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...problems].join('\n');
}
