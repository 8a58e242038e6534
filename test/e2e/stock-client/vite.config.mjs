// Builds the stock y-websocket client page (see ../cookie-auth.test.ts). Plain options, no
// import of vite: the test package does not depend on it; the build runs the demo's vite.
import { fileURLToPath } from 'node:url'

export default {
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../../test-output/e2e/stock-client-page', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
}
