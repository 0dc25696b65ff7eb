/** Worker-thread entry for the Node engine: instantiate the shared kernels, then serve parallel calls. */
import { workerData } from 'node:worker_threads';
import { runWorker, type WorkerInit } from '../src/engine/threadPool.js';

const init = workerData as WorkerInit;
const instance = new WebAssembly.Instance(init.module, {
  env: {
    memory: init.memory,
    abort: () => {
      throw new Error('kernel abort in worker');
    },
  },
});
runWorker(init, instance.exports as Record<string, unknown>);
