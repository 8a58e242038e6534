import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests import the workspace packages from their TypeScript sources (the
// '@converge/source' export condition), so a test run needs no build; the relay
// processes that e2e tests start run the built CLI.
const conditions = ['@converge/source', 'node', 'import', 'module', 'default']

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
