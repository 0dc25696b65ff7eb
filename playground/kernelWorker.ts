/** Entry of the engine's kernel workers (threads 1…n−1): instantiate the shared kernels, serve parallel calls. */
import { serveKernelWorker } from '../src/engine/browser.js';

serveKernelWorker();
