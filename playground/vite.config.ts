/**
 * Vite config of the playground: `npm run playground` (dev), `npm run build:playground` (→ playground/dist),
 * `npm run preview:playground`. The dev and preview servers send the two headers that make the page
 * cross-origin isolated (SharedArrayBuffer, so two engine threads). A plain static host sends none: there the
 * page's coi-serviceworker.js (the npm package coi-serviceworker, copied into the build) adds them through a
 * service worker, and where even that is impossible the engine runs on one thread and the page says so.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const COI_FILE = 'coi-serviceworker.js';

/** Serves (dev) and ships (build) coi-serviceworker.js from node_modules, at the site's root. */
function coiServiceWorker(): Plugin {
  const source = () =>
    readFileSync(createRequire(import.meta.url).resolve(`coi-serviceworker/${COI_FILE}`), 'utf8');
  return {
    name: 'elbo-coi-serviceworker',
    configureServer(server) {
      server.middlewares.use(`/${COI_FILE}`, (_req, res) => {
        res.setHeader('Content-Type', 'text/javascript');
        res.end(source());
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: COI_FILE, source: source() });
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
  plugins: [coiServiceWorker()],
});
