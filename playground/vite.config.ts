/**
 * Vite config of the playground: `npx vite playground` (dev), `npx vite build playground` (→ playground/dist),
 * `npx vite preview playground`. Every response carries the two headers that make the page cross-origin
 * isolated, without which browsers give it no SharedArrayBuffer and the engine cannot run.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const CHECKPOINT_ROUTE = 'checkpoints/mnist-ddpm.safetensors';

/**
 * Serves (dev) and ships (build) the MNIST checkpoint when it exists: `../checkpoints/mnist-ddpm.safetensors`,
 * or the file named by ELBO_PLAYGROUND_MNIST (to look at a run of your own). Without it the page says so.
 */
function mnistCheckpoint(): Plugin {
  const file =
    process.env.ELBO_PLAYGROUND_MNIST ?? fileURLToPath(new URL(`../${CHECKPOINT_ROUTE}`, import.meta.url));
  return {
    name: 'elbo-mnist-checkpoint',
    configureServer(server) {
      server.middlewares.use(`/${CHECKPOINT_ROUTE}`, (_req, res, next) => {
        if (!existsSync(file)) return next();
        for (const [k, v] of Object.entries(CROSS_ORIGIN_ISOLATION)) res.setHeader(k, v);
        res.setHeader('Content-Type', 'application/octet-stream');
        createReadStream(file).pipe(res);
      });
    },
    generateBundle() {
      if (existsSync(file))
        this.emitFile({ type: 'asset', fileName: CHECKPOINT_ROUTE, source: readFileSync(file) });
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './', // the built page works from any folder
  appType: 'mpa', // no SPA fallback: a missing file is a 404, not index.html
  server: {
    headers: CROSS_ORIGIN_ISOLATION,
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] }, // ../src and ../build
  },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
  // Module workers: the engine worker starts nested kernel workers, and both import the library's ES modules.
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  plugins: [mnistCheckpoint()],
});
