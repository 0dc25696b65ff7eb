/**
 * Data-parallel kernel calls over worker threads that share one WebAssembly.Memory.
 *
 * Every thread (the calling thread is thread 0, workers are 1..n−1) has its own instance of the same
 * kernel module on the same shared memory. A parallel call writes the kernel id and its arguments into a
 * small shared control block, cuts the call's range into a few chunks per thread, publishes them in one
 * atomic claim word and wakes the workers (Atomics.notify). Every thread, the caller included, claims chunks
 * one at a time (compare-and-swap on the claim word) and runs the kernel on each; the caller returns once all
 * chunks are done. A worker that wakes late (waking a sleeping thread is slow, above all in virtual machines)
 * finds fewer chunks left instead of holding everyone up, and the caller never waits for a worker that has
 * not claimed anything. Calls are synchronous from the caller's point of view, so the engine's code reads
 * like single-threaded code. In a browser the caller must itself be a Web Worker (Atomics.wait is not
 * allowed on the page's main thread).
 */

/** Control block layout (Int32 words), followed by the float64 argument slots. */
const GENERATION = 0;
/** Chunks of the current call that are done. */
const DONE = 1;
const KERNEL = 2;
const ARGC = 3;
const TOTAL = 4;
const CHUNK_SIZE = 5;
const READY = 6;
/** Set (to the failing thread's index + 1) when a kernel threw; the message follows the args. */
const FAILED = 7;
/** Count of waits that timed out although their condition had changed: wake-ups that never arrived. */
const LOST_WAKEUPS = 8;
/** 1 while threads add up the time they spend inside kernels (see ThreadPool.countBusy); 0 otherwise. */
const COUNT_BUSY = 9;
/**
 * The claim word (a BigInt64 at this byte offset): call number (high 32 bits) | next chunk (16) | chunks (16).
 * One word, so that a thread that read it during an earlier call can never claim a chunk of a later one.
 */
const CLAIM_BYTE_OFFSET = 40;
/** Chunks per thread in a call: enough to absorb a late worker, few enough to keep per-chunk setup cheap. */
const CHUNKS_PER_THREAD = 4;
const ARGS_BYTE_OFFSET = 64;
export const MAX_KERNEL_ARGS = 30;
const MESSAGE_BYTE_OFFSET = ARGS_BYTE_OFFSET + 8 * MAX_KERNEL_ARGS;
const MESSAGE_BYTES = 512;
/** Per-thread progress words (the last generation each worker finished), for diagnosing a stalled call. */
const PROGRESS_BYTE_OFFSET = MESSAGE_BYTE_OFFSET + MESSAGE_BYTES;
const MAX_THREADS = 64;
/**
 * Per-thread busy counters (float64 pairs: milliseconds inside kernels, chunks run), each written only by its own
 * thread, and only while COUNT_BUSY is set. A thread adds its time before counting its chunk done, so the caller
 * reads complete figures once a call has returned.
 */
const BUSY_BYTE_OFFSET = PROGRESS_BYTE_OFFSET + 4 * MAX_THREADS;
export const CONTROL_BYTES = BUSY_BYTE_OFFSET + 16 * MAX_THREADS;
/** Waits re-check their condition this often even without a notify. */
const WAKE_CHECK_MS = 20;
/**
 * Before sleeping, a waiting thread polls its condition for this long: the next kernel call of a training step
 * usually comes within microseconds, and waking a sleeping thread costs tens of microseconds (more in virtual
 * machines) — per call, hundreds of times a step. OpenMP runtimes spin before sleeping for the same reason.
 */
const SPIN_MS = 0.3;
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

/** Polls until control[index] ≠ value or SPIN_MS have passed; returns whether it changed. */
function spinWhileEqual(control: Int32Array, index: number, value: number): boolean {
  const t0 = performance.now();
  for (;;) {
    for (let i = 0; i < 256; i++) if (Atomics.load(control, index) !== value) return true;
    if (performance.now() - t0 > SPIN_MS) return false;
  }
}

/**
 * How a call over [0, total) is cut for `threads` threads: `chunks` chunks of `size` elements (a multiple of
 * grain; the last chunk may be shorter), at most CHUNKS_PER_THREAD per thread and at most 65535.
 */
export function chunking(total: number, grain: number, threads: number): { chunks: number; size: number } {
  const grains = Math.ceil(total / grain);
  const wanted = Math.min(grains, threads * CHUNKS_PER_THREAD, 65535);
  const size = Math.ceil(grains / wanted) * grain;
  return { chunks: Math.ceil(total / size), size };
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

/**
 * Claims chunks of the current call and runs them until none is left. A claim is a compare-and-swap of the
 * whole claim word, so it fails if another call has been published since the word was read; once a chunk is
 * claimed, the call's fields cannot change before that chunk is counted done. A kernel error is recorded in the
 * control block (the first one wins) and the chunk still counts as done, so the caller never hangs.
 */
function runChunks(
  control: Int32Array,
  claim: BigInt64Array,
  args: Float64Array,
  kernels: readonly Kernel[],
  kernelNames: readonly string[],
  scratch: number,
  index: number,
  busy: Float64Array,
): void {
  for (;;) {
    const word = Atomics.load(claim, 0);
    const next = Number((word >> 16n) & 0xffffn);
    const chunks = Number(word & 0xffffn);
    if (next >= chunks) return;
    if (Atomics.compareExchange(claim, 0, word, word + 0x10000n) !== word) continue;
    const id = control[KERNEL];
    const size = control[CHUNK_SIZE];
    const start = next * size;
    const end = Math.min(control[TOTAL], start + size);
    const counting = control[COUNT_BUSY] === 1;
    const t0 = counting ? performance.now() : 0;
    try {
      callKernel(kernels[id], start, end, args, control[ARGC], scratch);
    } catch (err) {
      if (Atomics.compareExchange(control, FAILED, 0, index + 1) === 0) {
        const text = new TextEncoder().encode(`${kernelNames[id]}: ${String(err)}`);
        new Uint8Array(control.buffer, MESSAGE_BYTE_OFFSET, MESSAGE_BYTES)
          .fill(0)
          .set(text.subarray(0, MESSAGE_BYTES));
      }
    } finally {
      if (counting) addBusy(busy, index, performance.now() - t0);
      if (Atomics.add(control, DONE, 1) + 1 === chunks) Atomics.notify(control, DONE);
    }
  }
}

/** Adds one chunk of `ms` to thread `index`'s busy counters. */
function addBusy(busy: Float64Array, index: number, ms: number): void {
  busy[2 * index] += ms;
  busy[2 * index + 1] += 1;
}

/** A worker's main loop: wait for a call, claim and run chunks of it; returns when told to exit. */
export function runWorker(init: WorkerInit, exports: Record<string, unknown>): void {
  const control = new Int32Array(init.control, 0, ARGS_BYTE_OFFSET / 4);
  const claim = new BigInt64Array(init.control, CLAIM_BYTE_OFFSET, 1);
  const args = new Float64Array(init.control, ARGS_BYTE_OFFSET, MAX_KERNEL_ARGS);
  const kernels = init.kernelNames.map((name) => exports[name] as Kernel);
  const progress = new Int32Array(init.control, PROGRESS_BYTE_OFFSET, MAX_THREADS);
  const busy = new Float64Array(init.control, BUSY_BYTE_OFFSET, 2 * MAX_THREADS);
  let seen = Atomics.load(control, GENERATION);
  Atomics.add(control, READY, 1);
  Atomics.notify(control, READY);
  for (;;) {
    // Sleep until the generation moves on. The timeout makes a lost wake-up cost 20 ms instead of a hang
    // (observed twice in long training runs: every thread asleep in futex_wait, the cause not yet found).
    spinWhileEqual(control, GENERATION, seen);
    while (Atomics.load(control, GENERATION) === seen) {
      const r = Atomics.wait(control, GENERATION, seen, WAKE_CHECK_MS);
      if (r === 'timed-out' && Atomics.load(control, GENERATION) !== seen)
        Atomics.add(control, LOST_WAKEUPS, 1);
    }
    seen = Atomics.load(control, GENERATION);
    if (control[KERNEL] === EXIT) return;
    runChunks(control, claim, args, kernels, init.kernelNames, init.scratch, init.index, busy);
    Atomics.store(progress, init.index, seen);
  }
}

export class ThreadPool {
  readonly threads: number;
  private readonly control: Int32Array;
  private readonly claim: BigInt64Array;
  private readonly args: Float64Array;
  private readonly busy: Float64Array;
  private readonly kernelNames: readonly string[];
  /** Number of the current call (the high half of the claim word). */
  private call = 0;
  private readonly workers: WorkerHandle[] = [];
  private readonly kernelIds: Map<string, number>;
  private readonly kernels: Kernel[];
  private readonly scratch0: number;
  private closed = false;

  private constructor(
    threads: number,
    controlBuffer: ArrayBufferLike,
    kernelNames: readonly string[],
    exports: Record<string, unknown>,
    scratch0: number,
  ) {
    this.threads = threads;
    this.control = new Int32Array(controlBuffer, 0, ARGS_BYTE_OFFSET / 4);
    this.claim = new BigInt64Array(controlBuffer, CLAIM_BYTE_OFFSET, 1);
    this.args = new Float64Array(controlBuffer, ARGS_BYTE_OFFSET, MAX_KERNEL_ARGS);
    this.busy = new Float64Array(controlBuffer, BUSY_BYTE_OFFSET, 2 * MAX_THREADS);
    this.kernelNames = kernelNames;
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
    // One thread shares nothing: a plain buffer, so that pages without SharedArrayBuffer (not cross-origin
    // isolated) can still run the engine single-threaded.
    const controlBuffer = threads > 1 ? new SharedArrayBuffer(CONTROL_BYTES) : new ArrayBuffer(CONTROL_BYTES);
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
          control: controlBuffer as SharedArrayBuffer, // threads > 1 here
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
   * Runs `kernel(start, end, ...args, scratch)` over [0, total) in chunks whose bounds are multiples of
   * `grain`, on all threads, and returns when every chunk is done.
   */
  run(kernel: string, total: number, grain: number, args: readonly number[]): void {
    const id = this.kernelIds.get(kernel);
    if (id === undefined) throw new Error(`unknown kernel "${kernel}"`);
    if (args.length > MAX_KERNEL_ARGS) throw new Error(`kernel "${kernel}": too many arguments`);
    if (this.closed) throw new Error('the engine has been disposed');
    if (total <= 0) return;
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    // Small ranges: not worth waking anyone.
    if (this.workers.length === 0 || total <= grain) {
      const counting = this.control[COUNT_BUSY] === 1;
      const t0 = counting ? performance.now() : 0;
      callKernel(this.kernels[id], 0, total, this.args, args.length, this.scratch0);
      if (counting) addBusy(this.busy, 0, performance.now() - t0);
      return;
    }
    const c = this.control;
    const { chunks, size } = chunking(total, grain, this.threads);
    c[KERNEL] = id;
    c[ARGC] = args.length;
    c[TOTAL] = total;
    c[CHUNK_SIZE] = size;
    Atomics.store(c, DONE, 0);
    // Publishing the claim word makes the fields above visible to whoever claims a chunk of this call.
    this.call = (this.call + 1) >>> 0;
    Atomics.store(this.claim, 0, (BigInt(this.call) << 32n) | BigInt(chunks));
    Atomics.add(c, GENERATION, 1);
    Atomics.notify(c, GENERATION);
    runChunks(c, this.claim, this.args, this.kernels, this.kernelNames, this.scratch0, 0, this.busy);
    const t0 = Date.now();
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done !== chunks && spinWhileEqual(c, DONE, done)) continue;
      if (done === chunks) break;
      const r = Atomics.wait(c, DONE, done, WAKE_CHECK_MS);
      if (r === 'timed-out' && Atomics.load(c, DONE) !== done) Atomics.add(c, LOST_WAKEUPS, 1);
      if (Date.now() - t0 > STALL_MS) {
        const progress = new Int32Array(c.buffer, PROGRESS_BYTE_OFFSET, this.threads);
        throw new Error(
          `engine: kernel "${kernel}" did not finish within ${STALL_MS / 1000} s (generation ${Atomics.load(c, GENERATION)}, ` +
            `${chunks - done} of ${chunks} chunks outstanding, workers' last finished generations: ${[...progress.slice(1)].join(', ')})`,
        );
      }
    }
    const failed = Atomics.exchange(c, FAILED, 0);
    if (failed !== 0) {
      const bytes = new Uint8Array(c.buffer, MESSAGE_BYTE_OFFSET, MESSAGE_BYTES);
      const end = bytes.indexOf(0);
      const message = new TextDecoder().decode(bytes.slice(0, end < 0 ? MESSAGE_BYTES : end));
      throw new Error(`engine thread ${failed - 1} failed in kernel ${message}`);
    }
  }

  /**
   * Starts (zeroing the counters) or stops counting, per thread, the time spent inside kernels and the chunks
   * run. Call between kernel calls; read the figures with {@link busyCounts}.
   */
  countBusy(on: boolean): void {
    if (on) this.busy.fill(0);
    Atomics.store(this.control, COUNT_BUSY, on ? 1 : 0);
  }

  /** Per thread (index 0 = the caller): milliseconds inside kernels and chunks run while counting was on. */
  busyCounts(): { busyMs: number; chunks: number }[] {
    return Array.from({ length: this.threads }, (_, i) => ({
      busyMs: this.busy[2 * i],
      chunks: this.busy[2 * i + 1],
    }));
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
