// Preloaded into a relay process under test (node --expose-gc --import <this file>): on
// SIGUSR2 it collects garbage fully and prints one line, `heap-probe {"heapUsed":…,"external":…,"arrayBuffers":…}`,
// so a test reads the live heap and buffers instead of a peak RSS that depends on GC timing.
process.on('SIGUSR2', () => {
  globalThis.gc?.()
  globalThis.gc?.()
  const { heapUsed, external, arrayBuffers } = process.memoryUsage()
  process.stdout.write(`heap-probe ${JSON.stringify({ heapUsed, external, arrayBuffers })}\n`)
})
