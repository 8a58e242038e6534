#!/usr/bin/env node
// V8's settings first (the young generation's growth: see src/v8-defaults.ts), before the
// relay's modules load and grow the heap; then the CLI.
import { applyV8Defaults } from '../dist/v8-defaults.js'

try {
  applyV8Defaults()
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
}
const { main } = await import('../dist/cli.js')

main(process.argv).catch((err) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
