/**
 * Browser adapter for the engine (the counterpart of node/engine.ts). The caller fetches the two compiled
 * kernel builds (build/kernels.wasm, build/kernels-relaxed.wasm) and passes their bytes in — nothing here does
 * I/O; this picks the build the browser validates (relaxed SIMD when it can), compiles it once, and runs the
 * other threads as module Web Workers whose entry script calls {@link serveKernelWorker}.
 *
 * Two requirements of the platform:
 * - SharedArrayBuffer (shared between threads) exists only in cross-origin isolated pages: serve the page with
 *   `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`. Without it the
 *   engine runs on one thread: the kernels still import a shared WebAssembly.Memory, which Chromium creates in
 *   any page (it only refuses to send one to a worker); browsers that refuse it fail with their own message.
 * - Parallel calls block in Atomics.wait, which the page's main thread may not do: with threads > 1 the
 *   engine must be created and driven inside a (dedicated) Web Worker; kernel workers are then nested workers.
 */
import { chooseKernelBuild, Engine } from './engine.js';
import { runWorker, type WorkerInit } from './threadPool.js';

/** Options of {@link createBrowserEngine}. */
export interface BrowserEngineOptions {
  /** Bytes of the plain-SIMD build (build/kernels.wasm). */
  simd: BufferSource;
  /** Bytes of the relaxed-SIMD build (build/kernels-relaxed.wasm); omit to force the plain-SIMD build. */
  relaxed?: BufferSource;
  /** Threads including the calling one; default: navigator.hardwareConcurrency. */
  threads?: number;
  /**
   * URL of a module script that calls {@link serveKernelWorker} (with Vite: `import url from
   * './kernelWorker.ts?worker&url'`). Required when threads > 1.
   */
  workerUrl?: string | URL;
  /** Heap address space reserved up front (see EngineOptions.heapBytes; default 1 GiB). */
  heapBytes?: number;
}

/** True in a worker (where Atomics.wait is allowed), false on a page's main thread. */
function inWorker(): boolean {
  return typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
}

/**
 * Creates an engine in the browser. Rejects with an explanation when more than one thread is asked for in a page
 * that is not cross-origin isolated (default there: 1 thread), when more than one thread is asked for on the main thread, or when a kernel worker fails to load.
 */
export async function createBrowserEngine(options: BrowserEngineOptions): Promise<Engine> {
  const isolated = typeof SharedArrayBuffer !== 'undefined' && globalThis.crossOriginIsolated !== false;
  const threads = options.threads ?? (isolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1);
  if (threads > 1 && !isolated) {
    throw new Error(
      `threads = ${threads} needs SharedArrayBuffer, which browsers only give cross-origin isolated pages: serve ` +
        'the page with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: ' +
        'require-corp, or ask for threads = 1',
    );
  }
  if (threads > 1 && !inWorker()) {
    throw new Error(
      `threads = ${threads} needs the engine to run in a Web Worker: parallel calls block in Atomics.wait, ` +
        "which the page's main thread may not do",
    );
  }
  const { workerUrl } = options;
  if (threads > 1 && workerUrl === undefined) {
    throw new Error(`threads = ${threads} needs workerUrl (a module script that calls serveKernelWorker)`);
  }
  const { bytes, relaxedSimd } = chooseKernelBuild(options.simd, options.relaxed);
  const module = await WebAssembly.compile(bytes);

  const workers: Worker[] = [];
  let fail: (err: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {}); // an error after start-up is not this promise's business
  const spawnWorker = (init: WorkerInit): Worker => {
    const worker = new Worker(workerUrl!, { type: 'module', name: `elbo-kernels-${init.index}` });
    worker.addEventListener('error', (event) => {
      const detail = (event as ErrorEvent).message || `could not load ${String(workerUrl)}`;
      fail(new Error(`engine kernel worker ${init.index} failed: ${detail}`));
    });
    worker.addEventListener('messageerror', () => {
      fail(new Error(`engine kernel worker ${init.index} could not receive the shared kernels`));
    });
    worker.postMessage(init);
    workers.push(worker);
    return worker;
  };
  try {
    return await Promise.race([
      Engine.create({ module, relaxedSimd, threads, heapBytes: options.heapBytes, spawnWorker }),
      failed,
    ]);
  } catch (err) {
    for (const w of workers) w.terminate();
    throw err;
  }
}

/**
 * The body of a kernel worker's entry script: waits for the pool's {@link WorkerInit}, instantiates the shared
 * kernels on the shared memory, then serves parallel calls until the engine is disposed. The whole entry:
 * `import { serveKernelWorker } from '…/engine/browser.js'; serveKernelWorker();`
 */
export function serveKernelWorker(): void {
  const scope = globalThis as unknown as {
    addEventListener(type: 'message', fn: (e: MessageEvent<WorkerInit>) => void, opts: { once: true }): void;
  };
  scope.addEventListener(
    'message',
    (event) => {
      const init = event.data;
      const instance = new WebAssembly.Instance(init.module, {
        env: {
          memory: init.memory,
          abort: (_msg: number, _file: number, line: number, col: number) => {
            throw new Error(`kernel abort at ${line}:${col}`);
          },
        },
      });
      runWorker(init, instance.exports as Record<string, unknown>);
    },
    { once: true },
  );
}
