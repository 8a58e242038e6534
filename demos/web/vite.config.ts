import { fileURLToPath } from 'node:url'
import { defaultClientConditions, defineConfig } from 'vite'
import { serviceWorker } from './service-worker-plugin.js'

// The workspace packages export their TypeScript sources under '@converge/source': the
// demo builds straight from them, so it needs no prior `tsc` build of the packages.
export default defineConfig({
  resolve: { conditions: ['@converge/source', ...defaultClientConditions] },
  build: { target: 'es2022', sourcemap: true, outDir: 'dist', emptyOutDir: true },
  plugins: [serviceWorker(fileURLToPath(new URL('./service-worker.js', import.meta.url)))],
})
