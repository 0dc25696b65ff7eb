/**
 * Node adapter for the engine: reads the compiled kernels from the package's build/ folder, enables
 * relaxed SIMD in V8 when possible, and runs worker threads with node:worker_threads.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { chooseKernelBuild, Engine } from '../src/engine/engine.js';
import type { WorkerInit } from '../src/engine/threadPool.js';

/** The package root (this file is node/engine.ts in the sources and dist/node/engine.js when built). */
function packageRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.includes('/dist/')
    ? new URL('../../', import.meta.url).pathname
    : new URL('../', import.meta.url).pathname;
}

function readKernel(file: string): Uint8Array<ArrayBuffer> {
  const path = `${packageRoot()}build/${file}`;
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    throw new Error(`compiled kernels not found at ${path}: run \`npm run build:wasm\` first`);
  }
}

/** Options of {@link createNodeEngine}. */
export interface NodeEngineOptions {
  /** Threads including the calling one; default: the machine's available parallelism. */
  threads?: number;
  /** Use the plain-SIMD kernels even when relaxed SIMD is available (for comparisons). */
  noRelaxedSimd?: boolean;
  /** Heap address space reserved up front (see EngineOptions.heapBytes). */
  heapBytes?: number;
  /** Winograd F(m×m, 3×3) for eligible 3×3 convolutions (default true; see Engine.winograd). */
  winograd?: boolean;
}

/** Creates an engine for Node with worker_threads. Call `dispose()` when done so the process can exit. */
export async function createNodeEngine(options: NodeEngineOptions = {}): Promise<Engine> {
  // Node 20's V8 has relaxed SIMD behind a flag; setting it before compiling any module is enough.
  if (!options.noRelaxedSimd) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const simd = readKernel('kernels.wasm');
  const relaxed = options.noRelaxedSimd ? undefined : readKernel('kernels-relaxed.wasm');
  const { bytes, relaxedSimd } = chooseKernelBuild(simd, relaxed);
  const module = await WebAssembly.compile(bytes);
  // Workers always run the compiled worker (dist/), even when this file runs from sources under vitest:
  // worker_threads cannot load TypeScript. `npm run build` writes it.
  const workerUrl = `${packageRoot()}dist/node/worker.js`;
  return Engine.create({
    module,
    relaxedSimd,
    threads: options.threads ?? availableParallelism(),
    heapBytes: options.heapBytes,
    winograd: options.winograd,
    spawnWorker: (init: WorkerInit) => {
      const worker = new Worker(workerUrl, {
        workerData: init, // V8 flags are per process: workers get relaxed SIMD too
      });
      worker.unref();
      return worker;
    },
  });
}
