import { readFileSync } from 'node:fs'

/**
 * This package's version, read from its package.json (one level above both src/ and dist/),
 * so `converge --version` always says what npm installed.
 */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version
