// Preloaded into a relay process under test (node --expose-gc --import <this file>): on
// SIGUSR2 it collects garbage fully and prints one line,
// `heap-probe {"heapUsed":…,"external":…,"arrayBuffers":…,"codeUsed":…}`, so a test reads the
// live heap and buffers instead of a peak RSS that depends on GC timing. `codeUsed` is the
// part of heapUsed that is compiled code (code spaces): it grows as the JIT optimises more
// of the program, whatever the program keeps alive.
import { getHeapSpaceStatistics } from 'node:v8'

process.on('SIGUSR2', () => {
  globalThis.gc?.()
  globalThis.gc?.()
  const { heapUsed, external, arrayBuffers } = process.memoryUsage()
  const codeUsed = getHeapSpaceStatistics()
    .filter((s) => s.space_name.startsWith('code'))
    .reduce((sum, s) => sum + s.space_used_size, 0)
  process.stdout.write(`heap-probe ${JSON.stringify({ heapUsed, external, arrayBuffers, codeUsed })}\n`)
})
