/**
 * Data-parallel kernel calls over worker threads that share one WebAssembly.Memory.
 *
 * Every thread (the calling thread is thread 0, workers are 1..n−1) has its own instance of the same
 * kernel module on the same shared memory. A parallel call writes the kernel id and its arguments into a
 * small shared control block, bumps a generation counter and wakes the workers (Atomics.notify); each
 * thread runs the kernel on its slice [start, end) of the call's range, then counts itself done; the caller
 * waits (Atomics.wait) until all are. Calls are synchronous from the caller's point of view, so the
 * engine's code reads like single-threaded code. In a browser the caller must itself be a Web Worker
 * (Atomics.wait is not allowed on the page's main thread).
 */

/** Control block layout (Int32 words), followed by the float64 argument slots. */
const GENERATION = 0;
const REMAINING = 1;
const KERNEL = 2;
const ARGC = 3;
const TOTAL = 4;
const GRAIN = 5;
const READY = 6;
/** Set (to the failing thread's index) when a kernel threw in a worker; the message follows the args. */
const FAILED = 7;
/** Count of waits that timed out although their condition had changed: wake-ups that never arrived. */
const LOST_WAKEUPS = 8;
const ARGS_BYTE_OFFSET = 64;
export const MAX_KERNEL_ARGS = 30;
const MESSAGE_BYTE_OFFSET = ARGS_BYTE_OFFSET + 8 * MAX_KERNEL_ARGS;
const MESSAGE_BYTES = 512;
/** Per-thread progress words (the last generation each worker finished), for diagnosing a stalled call. */
const PROGRESS_BYTE_OFFSET = MESSAGE_BYTE_OFFSET + MESSAGE_BYTES;
const MAX_THREADS = 64;
export const CONTROL_BYTES = PROGRESS_BYTE_OFFSET + 4 * MAX_THREADS;
/** Waits re-check their condition this often even without a notify. */
const WAKE_CHECK_MS = 20;
/** A parallel call that takes longer than this is reported as stalled (an error, not a hang). */
const STALL_MS = 120_000;
/** Kernel id that tells workers to exit their loop. */
const EXIT = -1;

/** Everything a worker needs to join the pool (structured-cloneable). */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  kernelNames: readonly string[];
  index: number;
  threads: number;
  /** Byte offset of this thread's private scratch area in the shared memory. */
  scratch: number;
}

/** The part of a Worker (Node worker_threads or Web Worker) the pool uses. */
export interface WorkerHandle {
  terminate(): unknown;
}

/** Starts a worker that calls {@link runWorker} with `init`. Provided by the platform layer. */
export type SpawnWorker = (init: WorkerInit) => WorkerHandle;

type Kernel = (...args: number[]) => unknown;

/** The slice of [0, total) that thread `index` of `threads` runs; chunk boundaries are multiples of grain. */
export function threadSlice(total: number, grain: number, threads: number, index: number): [number, number] {
  const chunk = Math.ceil(total / threads / grain) * grain;
  const start = Math.min(total, index * chunk);
  return [start, Math.min(total, start + chunk)];
}

function callKernel(
  kernel: Kernel,
  start: number,
  end: number,
  args: Float64Array,
  argc: number,
  scratch: number,
) {
  // Up to MAX_KERNEL_ARGS positional arguments; the slice bounds first, this thread's scratch last.
  const a: number[] = [start, end];
  for (let i = 0; i < argc; i++) a.push(args[i]);
  a.push(scratch);
  kernel(...a);
}

/** A worker's main loop: wait for a call, run its slice, report done; returns when told to exit. */
export function runWorker(init: WorkerInit, exports: Record<string, unknown>): void {
  const control = new Int32Array(init.control, 0, ARGS_BYTE_OFFSET / 4);
  const args = new Float64Array(init.control, ARGS_BYTE_OFFSET, MAX_KERNEL_ARGS);
  const kernels = init.kernelNames.map((name) => exports[name] as Kernel);
  const progress = new Int32Array(init.control, PROGRESS_BYTE_OFFSET, MAX_THREADS);
  let seen = Atomics.load(control, GENERATION);
  Atomics.add(control, READY, 1);
  Atomics.notify(control, READY);
  for (;;) {
    // Sleep until the generation moves on. The timeout makes a lost wake-up cost 20 ms instead of a hang
    // (observed twice in long training runs: every thread asleep in futex_wait, the cause not yet found).
    while (Atomics.load(control, GENERATION) === seen) {
      const r = Atomics.wait(control, GENERATION, seen, WAKE_CHECK_MS);
      if (r === 'timed-out' && Atomics.load(control, GENERATION) !== seen)
        Atomics.add(control, LOST_WAKEUPS, 1);
    }
    seen = Atomics.load(control, GENERATION);
    const id = control[KERNEL];
    if (id === EXIT) return;
    const [start, end] = threadSlice(control[TOTAL], control[GRAIN], init.threads, init.index);
    try {
      if (start < end) callKernel(kernels[id], start, end, args, control[ARGC], init.scratch);
    } catch (err) {
      // Never let the worker die: the caller would wait forever. Report, and keep serving.
      const text = new TextEncoder().encode(
        `${init.kernelNames[id]}: ${String(err)}`.slice(0, MESSAGE_BYTES / 4),
      );
      new Uint8Array(init.control, MESSAGE_BYTE_OFFSET, MESSAGE_BYTES)
        .fill(0)
        .set(text.subarray(0, MESSAGE_BYTES));
      Atomics.store(control, FAILED, init.index);
    } finally {
      Atomics.store(progress, init.index, seen);
      if (Atomics.sub(control, REMAINING, 1) === 1) Atomics.notify(control, REMAINING);
    }
  }
}

export class ThreadPool {
  readonly threads: number;
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private readonly workers: WorkerHandle[] = [];
  private readonly kernelIds: Map<string, number>;
  private readonly kernels: Kernel[];
  private readonly scratch0: number;
  private closed = false;

  private constructor(
    threads: number,
    controlBuffer: SharedArrayBuffer,
    kernelNames: readonly string[],
    exports: Record<string, unknown>,
    scratch0: number,
  ) {
    this.threads = threads;
    this.control = new Int32Array(controlBuffer, 0, ARGS_BYTE_OFFSET / 4);
    this.args = new Float64Array(controlBuffer, ARGS_BYTE_OFFSET, MAX_KERNEL_ARGS);
    this.kernelIds = new Map(kernelNames.map((n, i) => [n, i]));
    this.kernels = kernelNames.map((n) => exports[n] as Kernel);
    this.scratch0 = scratch0;
  }

  /**
   * Starts `threads − 1` workers and resolves once all have instantiated the kernels.
   * @param scratch byte offsets of each thread's scratch area (index 0 = the calling thread)
   */
  static async start(options: {
    threads: number;
    module: WebAssembly.Module;
    memory: WebAssembly.Memory;
    exports: Record<string, unknown>;
    kernelNames: readonly string[];
    scratch: readonly number[];
    spawnWorker?: SpawnWorker;
  }): Promise<ThreadPool> {
    const { threads, spawnWorker } = options;
    if (threads > 1 && !spawnWorker) throw new Error(`threads = ${threads} needs a spawnWorker function`);
    if (threads > MAX_THREADS) throw new Error(`at most ${MAX_THREADS} threads, got ${threads}`);
    const controlBuffer = new SharedArrayBuffer(CONTROL_BYTES);
    const pool = new ThreadPool(
      threads,
      controlBuffer,
      options.kernelNames,
      options.exports,
      options.scratch[0],
    );
    for (let index = 1; index < threads; index++) {
      pool.workers.push(
        spawnWorker!({
          module: options.module,
          memory: options.memory,
          control: controlBuffer,
          kernelNames: options.kernelNames,
          index,
          threads,
          scratch: options.scratch[index],
        }),
      );
    }
    // Wait (without blocking the event loop, which worker start-up may need) for every worker's READY.
    const deadline = Date.now() + 30_000;
    while (Atomics.load(pool.control, READY) < threads - 1) {
      if (Date.now() > deadline) {
        pool.close();
        throw new Error('engine worker threads did not start within 30 s');
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return pool;
  }

  /**
   * Runs `kernel(start, end, ...args, scratch)` on every thread, each on its slice of [0, total) (slice
   * bounds are multiples of `grain`), and returns when all slices are done.
   */
  run(kernel: string, total: number, grain: number, args: readonly number[]): void {
    const id = this.kernelIds.get(kernel);
    if (id === undefined) throw new Error(`unknown kernel "${kernel}"`);
    if (args.length > MAX_KERNEL_ARGS) throw new Error(`kernel "${kernel}": too many arguments`);
    if (this.closed) throw new Error('the engine has been disposed');
    if (total <= 0) return;
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    const workers = this.workers.length;
    // Small ranges: not worth waking anyone.
    if (workers === 0 || total <= grain) {
      callKernel(this.kernels[id], 0, total, this.args, args.length, this.scratch0);
      return;
    }
    const c = this.control;
    c[KERNEL] = id;
    c[ARGC] = args.length;
    c[TOTAL] = total;
    c[GRAIN] = grain;
    Atomics.store(c, REMAINING, workers);
    Atomics.add(c, GENERATION, 1);
    Atomics.notify(c, GENERATION);
    const [start, end] = threadSlice(total, grain, this.threads, 0);
    let ownError: unknown = null;
    try {
      if (start < end) callKernel(this.kernels[id], start, end, this.args, args.length, this.scratch0);
    } catch (err) {
      ownError = err; // rethrown only after every worker is done, so no call overlaps the next
    }
    const t0 = Date.now();
    for (;;) {
      const remaining = Atomics.load(c, REMAINING);
      if (remaining === 0) break;
      const r = Atomics.wait(c, REMAINING, remaining, WAKE_CHECK_MS);
      if (r === 'timed-out' && Atomics.load(c, REMAINING) !== remaining) Atomics.add(c, LOST_WAKEUPS, 1);
      if (Date.now() - t0 > STALL_MS) {
        const progress = new Int32Array(c.buffer, PROGRESS_BYTE_OFFSET, this.threads);
        throw new Error(
          `engine: kernel "${kernel}" did not finish within ${STALL_MS / 1000} s (generation ${Atomics.load(c, GENERATION)}, ` +
            `${remaining} worker(s) outstanding, workers' last finished generations: ${[...progress.slice(1)].join(', ')})`,
        );
      }
    }
    const failed = Atomics.exchange(c, FAILED, 0);
    if (ownError !== null) throw ownError;
    if (failed !== 0) {
      const bytes = new Uint8Array(c.buffer, MESSAGE_BYTE_OFFSET, MESSAGE_BYTES);
      const end = bytes.indexOf(0);
      const message = new TextDecoder().decode(bytes.slice(0, end < 0 ? MESSAGE_BYTES : end));
      throw new Error(`engine worker ${failed} failed in kernel ${message}`);
    }
  }

  /** Wake-ups that never arrived and were recovered by the wait timeout (diagnostic; expected 0). */
  get lostWakeups(): number {
    return Atomics.load(this.control, LOST_WAKEUPS);
  }

  /** Tells the workers to exit and terminates them. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.control[KERNEL] = EXIT;
    Atomics.add(this.control, GENERATION, 1);
    Atomics.notify(this.control, GENERATION);
    for (const w of this.workers) w.terminate();
  }
}
