/**
 * The numerical engine: the compiled kernel module on a shared heap, a thread pool, and scopes that own
 * the tensors created inside them. The platform (Node or browser) supplies the compiled kernels and a
 * way to start workers; see node/engine.ts for Node.
 */
import { Heap } from './memory.js';
import { type SpawnWorker, ThreadPool } from './threadPool.js';

/** Bytes below which the allocator never hands out memory (the kernel module's static data lives there). */
const STATIC_RESERVE = 65536;
/** Private scratch each thread's kernels may use (packing panels, partial sums). */
export const SCRATCH_BYTES = 8 * 2 ** 20;

/** Options of {@link Engine.create}; the platform adapters fill in the module and the worker spawner. */
export interface EngineOptions {
  /** The compiled kernels: the relaxed-SIMD build when the runtime validates it, else the plain-SIMD build. */
  module: WebAssembly.Module;
  /** Whether `module` is the relaxed-SIMD (fused multiply-add) build; reported by benchmarks. */
  relaxedSimd: boolean;
  /** Threads, including the calling one (default 1). */
  threads?: number;
  /** Required when threads > 1. */
  spawnWorker?: SpawnWorker;
  /**
   * Heap reserved up front (default 1 GiB). It is address space, not resident memory: pages count in RSS
   * only once touched. Reserving it avoids growing the shared memory while workers run kernels (growth is
   * still possible, up to 4 GiB, but each other thread only sees it at its next call).
   */
  heapBytes?: number;
  /** 3×3 stride-1 convolutions by Winograd F(m×m, 3×3) where the channels allow (default true). */
  winograd?: boolean;
}

/** Chooses the kernel build this runtime can run: relaxed SIMD if it validates, else plain SIMD. */
export function chooseKernelBuild(
  simd: BufferSource,
  relaxed: BufferSource | undefined,
): {
  bytes: BufferSource;
  relaxedSimd: boolean;
} {
  if (relaxed && WebAssembly.validate(relaxed)) return { bytes: relaxed, relaxedSimd: true };
  if (!WebAssembly.validate(simd)) {
    throw new Error(
      'this JavaScript runtime does not support WebAssembly SIMD; elbo needs Node ≥ 20 or a current browser',
    );
  }
  return { bytes: simd, relaxedSimd: false };
}

type KernelFn = (...args: number[]) => number;

/**
 * The numerical engine: compiled WebAssembly kernels on one shared heap, run by a pool of threads.
 * Create one with `createNodeEngine` (elbo/node) or {@link createBrowserEngine}; `dispose()` it when done.
 */
export class Engine {
  readonly heap: Heap;
  readonly threads: number;
  readonly relaxedSimd: boolean;
  /** Kernel exports of this thread's instance, for single-threaded calls. */
  readonly k: Readonly<Record<string, KernelFn>>;
  private readonly pool: ThreadPool;
  /** Per-thread scratch areas, index 0 = this thread. */
  readonly scratch: readonly number[];
  /**
   * Whether conv2d runs 3×3, stride-1, padding-1 convolutions with channel counts divisible by 8 by Winograd's
   * minimal filtering F(m×m, 3×3) (2.25–4× fewer multiplies) instead of the direct implicit GEMM. Switchable for
   * comparisons.
   */
  winograd = true;
  /** Output tile of the Winograd convolutions: F(2×2, 3×3), F(4×4, 3×3), or chosen per image size ('auto'). */
  winogradTile: 2 | 4 | 'auto' = 'auto';

  private constructor(
    heap: Heap,
    pool: ThreadPool,
    k: Record<string, KernelFn>,
    relaxedSimd: boolean,
    scratch: number[],
  ) {
    this.heap = heap;
    this.pool = pool;
    this.k = k;
    this.threads = pool.threads;
    this.relaxedSimd = relaxedSimd;
    this.scratch = scratch;
  }

  /**
   * Instantiates the kernels on a fresh shared heap and starts `threads − 1` workers (the platform adapters call this).
   */
  static async create(options: EngineOptions): Promise<Engine> {
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new Error(`threads must be an integer in [1, 64], got ${threads}`);
    }
    const pages = Math.ceil((options.heapBytes ?? 2 ** 30) / 65536);
    const memory = new WebAssembly.Memory({
      initial: Math.min(65536, Math.max(64, pages)),
      maximum: 65536,
      shared: true,
    });
    const instance = await WebAssembly.instantiate(options.module, {
      env: {
        memory,
        abort: (_msg: number, _file: number, line: number, col: number) => {
          throw new Error(`kernel abort at ${line}:${col}`);
        },
      },
    });
    const exports = instance.exports as Record<string, unknown>;
    const kernelNames = Object.keys(exports).filter((n) => typeof exports[n] === 'function');
    const heap = new Heap(memory, STATIC_RESERVE);
    const scratch = Array.from({ length: threads }, () => heap.alloc(SCRATCH_BYTES));
    const pool = await ThreadPool.start({
      threads,
      module: options.module,
      memory,
      exports,
      kernelNames,
      scratch,
      spawnWorker: options.spawnWorker,
    });
    const engine = new Engine(heap, pool, exports as Record<string, KernelFn>, options.relaxedSimd, scratch);
    engine.winograd = options.winograd ?? true;
    return engine;
  }

  /** Per-kernel wall time, collected while profiling is on (see startProfile). */
  private profile: Map<string, { ms: number; calls: number }> | null = null;

  /** Runs a sliceable kernel `name(start, end, ...args, scratch)` over [0, total) on all threads. */
  parallel(name: string, total: number, grain: number, args: readonly number[]): void {
    if (this.profile === null) {
      this.pool.run(name, total, grain, args);
      return;
    }
    const t0 = performance.now();
    this.pool.run(name, total, grain, args);
    const entry = this.profile.get(name) ?? { ms: 0, calls: 0 };
    entry.ms += performance.now() - t0;
    entry.calls += 1;
    this.profile.set(name, entry);
  }

  /** Starts collecting per-kernel wall times (for benchmarks). */
  startProfile(): void {
    this.profile = new Map();
    this.pool.countBusy(true);
  }

  /** Stops profiling and returns kernel → { ms, calls }, slowest first. */
  stopProfile(): [string, { ms: number; calls: number }][] {
    const p = this.profile ?? new Map();
    this.profile = null;
    this.pool.countBusy(false);
    return [...p.entries()].sort((a, b) => b[1].ms - a[1].ms);
  }

  /**
   * Per thread (index 0 = the calling thread), the milliseconds spent inside kernels and the chunks run during
   * the last profile (startProfile … stopProfile). Their sum over threads against the one-thread kernel time
   * separates slower work per thread (shared caches, memory bandwidth) from threads left waiting.
   */
  threadBusy(): { busyMs: number; chunks: number }[] {
    return this.pool.busyCounts();
  }

  /** Wake-ups between threads that were lost and recovered by polling (diagnostic; expected 0). */
  get lostWakeups(): number {
    return this.pool.lostWakeups;
  }

  /** Stops the worker threads. The engine cannot be used afterwards. */
  dispose(): void {
    this.pool.close();
  }
}
