// Builds the conformance page (see ../indexeddb-conformance.test.ts). Plain options, no
// import of vite: the test package does not depend on it; the build runs the demo's vite.
import { fileURLToPath } from 'node:url'

export default {
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  // Build the workspace packages from their TypeScript sources, for the browser.
  resolve: { conditions: ['@converge/source', 'module', 'browser', 'development|production'] },
  build: {
    outDir: fileURLToPath(new URL('../../../test-output/e2e/conformance-page', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
}
