/**
 * `npm run bench:engine`: elbo's engine against PyTorch on the reference ε-UNet
 * (shared/bench/reference_unet.py) at batch 64, in the same run: forward and Adam train-step medians,
 * GFLOP/s, peak RSS, at 1 and 2 threads, and the per-kernel profile of one train step. Each configuration
 * runs in its own child process so that peak RSS is its own. The last line printed is one JSON object.
 *
 * PyTorch runs when `/usr/bin/python3` has torch and the reference script is found (ELBO_REFERENCE_UNET or
 * ../shared/bench/reference_unet.py); otherwise its columns are empty.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNodeEngine } from '../node/engine.js';
import { REFERENCE_UNET, UNet } from '../src/nn/unet.js';
import { Rng } from '../src/random/rng.js';
import { mseLoss } from '../src/tensor/ops/elementwise.js';
import { Context } from '../src/tensor/tensor.js';
import { Adam } from '../src/train/optim.js';

const BATCH = 64;
/** Forward FLOPs of the reference UNet at batch 64 (multiply-add = 2), as reference_unet.py counts them. */
const FLOPS_FWD = 11_871_600_640;
const ITERS = Number(process.env.ELBO_BENCH_ITERS ?? 10);
/**
 * The four configurations (elbo and PyTorch, 1 and 2 threads) run this many times, interleaved, and each figure
 * is the median over rounds: on a shared virtual machine a single run can be 30 % off.
 */
const ROUNDS = Number(process.env.ELBO_BENCH_ROUNDS ?? 3);
/** ELBO_BENCH_WINOGRAD=0 runs every convolution with the direct kernels (to measure what Winograd gives). */
const WINOGRAD = process.env.ELBO_BENCH_WINOGRAD !== '0';

interface Result {
  threads: number;
  forward_ms: number;
  train_ms: number;
  peak_rss_mb: number;
  train_min_ms?: number;
  train_max_ms?: number;
  profile?: [string, { ms: number; calls: number }][];
  /** Wall time of the profiled train step: what its kernels do not account for ran outside them. */
  profile_step_ms?: number;
  relaxed_simd?: boolean;
  lost_wakeups?: number;
  /** Per thread in the profiled step: milliseconds inside kernels, chunks run. */
  thread_busy?: { busyMs: number; chunks: number }[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One configuration over the rounds: median times, their train-time range, the largest peak RSS. */
function combine(rs: Result[]): Result {
  const trains = rs.map((r) => r.train_ms);
  return {
    ...rs[rs.length - 1],
    forward_ms: median(rs.map((r) => r.forward_ms)),
    train_ms: median(trains),
    train_min_ms: Math.min(...trains),
    train_max_ms: Math.max(...trains),
    peak_rss_mb: Math.max(...rs.map((r) => r.peak_rss_mb)),
    lost_wakeups: rs.some((r) => r.lost_wakeups !== undefined)
      ? rs.reduce((s, r) => s + (r.lost_wakeups ?? 0), 0)
      : undefined,
  };
}

async function runOurs(threads: number): Promise<Result> {
  const engine = await createNodeEngine({ threads, winograd: WINOGRAD });
  const ctx = new Context(engine);
  const rng = Rng.fromSeed(1);
  const model = new UNet(ctx, REFERENCE_UNET, rng);
  const opt = new Adam(ctx, model, { lr: 2e-4 });
  const x = rng.fillNormal(new Float32Array(BATCH * 784));
  const eps = rng.fillNormal(new Float32Array(BATCH * 784));
  const t = Array.from({ length: BATCH }, () => rng.int(1000));
  const forward = () =>
    ctx.noGrad(() => ctx.scope(() => void model.forward(ctx.fromArray(x, [BATCH, 28, 28, 1]), t)));
  const trainStep = () => {
    opt.zeroGrad();
    ctx.scope(() => {
      const out = model.forward(ctx.fromArray(x, [BATCH, 28, 28, 1]), t);
      const loss = mseLoss(out, ctx.fromArray(eps, [BATCH, 28, 28, 1]));
      ctx.backward(loss);
      return loss.item();
    });
    opt.update();
  };
  const time = (fn: () => void) => {
    for (let i = 0; i < 3; i++) fn();
    const ts: number[] = [];
    for (let i = 0; i < ITERS; i++) {
      const t0 = performance.now();
      fn();
      ts.push(performance.now() - t0);
    }
    return median(ts);
  };
  const forward_ms = time(forward);
  const train_ms = time(trainStep);
  engine.startProfile();
  const tProfile = performance.now();
  trainStep();
  const profile_step_ms = performance.now() - tProfile;
  const profile = engine.stopProfile();
  const thread_busy = engine.threadBusy();
  const lost = engine.lostWakeups;
  engine.dispose();
  return {
    threads,
    forward_ms,
    train_ms,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    profile,
    profile_step_ms,
    thread_busy,
    relaxed_simd: engine.relaxedSimd,
    lost_wakeups: lost,
  };
}

function findReference(): string | null {
  const candidates = [
    process.env.ELBO_REFERENCE_UNET,
    fileURLToPath(new URL('../../../shared/bench/reference_unet.py', import.meta.url)),
    fileURLToPath(new URL('../../shared/bench/reference_unet.py', import.meta.url)),
  ];
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

function runTorch(threads: number): Result | null {
  const script = findReference();
  if (!script || !existsSync('/usr/bin/python3')) return null;
  try {
    const out = execFileSync('/usr/bin/python3', [script, 'bench', String(threads)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: String(threads) },
    });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    return {
      threads,
      forward_ms: r.forward.median_ms,
      train_ms: r.train_step.median_ms,
      peak_rss_mb: r.peak_rss_mb,
    };
  } catch {
    return null;
  }
}

function child(threads: number): Result {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(threads)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

const pad = (s: string, n: number) => s.padStart(n);
const fmt = (x: number | undefined, d = 1) => (x === undefined ? '—' : x.toFixed(d));

/** Milliseconds of the profiled train step spent inside kernels (the sum over the kernel profile). */
function inKernels(r: Result): number {
  return r.profile!.reduce((s, [, v]) => s + v.ms, 0);
}

/**
 * Where one train step's time goes, per kernel at 1 and 2 threads with the speed-up of each, and the time
 * outside the kernels (JavaScript: autodiff bookkeeping, allocation, small serial loops), which one thread
 * or two run alike.
 */
function printProfile(one: Result, two: Result): void {
  const ms1 = new Map(one.profile!.map(([k, v]) => [k, v.ms]));
  const total2 = two.profile_step_ms!;
  console.log('\nwall time of one train step by kernel (slowest 15 at 2 threads):');
  console.log(
    `${pad('kernel', 30)}${pad('1t ms', 10)}${pad('2t ms', 10)}${pad('2t %', 8)}${pad('speed-up', 10)}${pad('calls', 7)}`,
  );
  const row = (name: string, a: number | undefined, b: number, calls: string) =>
    console.log(
      `${pad(name, 30)}${pad(fmt(a), 10)}${pad(fmt(b), 10)}${pad(fmt((100 * b) / total2), 8)}` +
        `${pad(a === undefined ? '' : fmt(a / b, 2), 10)}${pad(calls, 7)}`,
    );
  for (const [name, v] of two.profile!.slice(0, 15)) row(name, ms1.get(name), v.ms, String(v.calls));
  row('(all kernels)', inKernels(one), inKernels(two), '');
  row('(outside the kernels)', one.profile_step_ms! - inKernels(one), total2 - inKernels(two), '');
  row('(whole step)', one.profile_step_ms!, total2, '');
  const t = threadWork(one, two);
  console.log(
    `\nthreads at work in the profiled 2-thread step: ${two
      .thread_busy!.map((b, i) => `thread ${i} ${fmt(b.busyMs)} ms in ${b.chunks} chunks`)
      .join(', ')}; ` +
      `work inflation (their sum / the 1-thread kernel time) ${fmt(t.inflation, 2)}, ` +
      `thread efficiency (their sum / 2 × kernel wall time) ${fmt(t.efficiency, 2)}; ` +
      `kernel speed-up = 2 × efficiency / inflation = ${fmt((2 * t.efficiency) / t.inflation, 2)}`,
  );
}

/**
 * Splits the kernels' 2-thread speed-up into two factors: work inflation, how much longer the same work takes when
 * two threads run at once (shared caches, memory bandwidth, the host), and thread efficiency, the share of the
 * kernel wall time both threads spend inside kernels (the rest is waiting: wake-ups, uneven chunks).
 */
function threadWork(one: Result, two: Result): { inflation: number; efficiency: number } {
  const busy = two.thread_busy!.reduce((s, b) => s + b.busyMs, 0);
  return { inflation: busy / inKernels(one), efficiency: busy / (two.thread_busy!.length * inKernels(two)) };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    process.stdout.write(`${JSON.stringify(await runOurs(Number(process.argv[3])))}\n`);
    return;
  }
  const rounds: { ours: Result[]; torch: (Result | null)[] }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push({ ours: [child(1), child(2)], torch: [runTorch(1), runTorch(2)] });
  }
  const ours = [0, 1].map((i) => combine(rounds.map((r) => r.ours[i])));
  const torch = [0, 1].map((i) => {
    const rs = rounds.map((r) => r.torch[i]);
    return rs.every((r) => r !== null) ? combine(rs as Result[]) : null;
  });
  const gf = (ms: number, mult: number) => (mult * FLOPS_FWD) / ms / 1e6;
  console.log(
    `reference UNet, batch ${BATCH}; medians over ${ROUNDS} interleaved rounds of ${ITERS} timed iterations ` +
      `(train ms spread: min–max of the rounds); relaxed SIMD: ${ours[0].relaxed_simd}; Winograd: ${WINOGRAD}`,
  );
  console.log(
    [
      'engine',
      'threads',
      'fwd ms',
      'fwd GF/s',
      'train ms',
      'train GF/s',
      'peak RSS MB',
      'fwd ratio',
      'train ratio',
      'train spread',
    ]
      .map((h, i) => pad(h, i === 0 ? 8 : i === 9 ? 15 : 12))
      .join(''),
  );
  for (let i = 0; i < 2; i++) {
    for (const [name, r] of [
      ['elbo', ours[i]],
      ['pytorch', torch[i]],
    ] as const) {
      if (!r) continue;
      const tr = torch[i];
      console.log(
        [
          pad(name, 8),
          pad(String(r.threads), 11),
          pad(fmt(r.forward_ms), 11),
          pad(fmt(gf(r.forward_ms, 1)), 11),
          pad(fmt(r.train_ms), 11),
          pad(fmt(gf(r.train_ms, 3)), 11),
          pad(fmt(r.peak_rss_mb, 0), 11),
          pad(name === 'elbo' && tr ? fmt(r.forward_ms / tr.forward_ms, 2) : '', 11),
          pad(name === 'elbo' && tr ? fmt(r.train_ms / tr.train_ms, 2) : '', 11),
          pad(`${fmt(r.train_min_ms, 0)}–${fmt(r.train_max_ms, 0)}`, 15),
        ].join(''),
      );
    }
  }
  printProfile(ours[0], ours[1]);
  const json = {
    train_ratio_2t: torch[1] ? ours[1].train_ms / torch[1].train_ms : null,
    forward_ratio_2t: torch[1] ? ours[1].forward_ms / torch[1].forward_ms : null,
    train_ratio_1t: torch[0] ? ours[0].train_ms / torch[0].train_ms : null,
    forward_ratio_1t: torch[0] ? ours[0].forward_ms / torch[0].forward_ms : null,
    rss_ratio: torch[1]
      ? Math.max(ours[0].peak_rss_mb, ours[1].peak_rss_mb) /
        Math.max(torch[0]?.peak_rss_mb ?? 0, torch[1].peak_rss_mb)
      : null,
    speedup_2t: median(rounds.map((r) => r.ours[0].train_ms / r.ours[1].train_ms)),
    ...(({ inflation, efficiency }) => ({ work_inflation_2t: inflation, thread_efficiency_2t: efficiency }))(
      threadWork(ours[0], ours[1]),
    ),
    rounds: ROUNDS,
    winograd: WINOGRAD,
    elbo: ours.map(({ profile: _p, profile_step_ms: _s, thread_busy: _b, ...r }) => r),
    pytorch: torch,
  };
  console.log(JSON.stringify(json));
}

await main();
