type Immediate = (fn: () => void) => unknown

/**
 * Runs `fn` at the next turn of the event loop, after the I/O of the current one: in Node
 * with `setImmediate` (no 1 ms timer clamp), in browsers with a zero timeout, the nearest
 * they have. Stores use it for group commit: everything appended in one turn joins one batch.
 * The global is looked up at each call, so fake timers that replace it are honoured.
 */
export function onNextTurn(fn: () => void): void {
  const immediate = (globalThis as { setImmediate?: Immediate }).setImmediate
  if (immediate !== undefined) immediate(fn)
  else setTimeout(fn, 0)
}

/** Resolves at the next turn of the event loop (see `onNextTurn`). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => onNextTurn(resolve))
}
