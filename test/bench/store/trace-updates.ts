import * as Y from 'yjs'
import { replay, type Trace } from '../lib/trace.js'

/** The updates a trace emits when typed into one Y.Text, one transaction per edit (as live typing). */
export interface TraceUpdates {
  updates: Uint8Array[]
  /** The final document, encoded (Y.encodeStateAsUpdate, V1). */
  state: Uint8Array
  text: string
}

/** Replays transactions [0, edits) of `trace` and keeps every update it emits. */
export const traceUpdates = (trace: Trace, edits = trace.txns.length): TraceUpdates => {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  replay(doc.getText('text'), trace, 0, Math.min(edits, trace.txns.length))
  const result = { updates, state: Y.encodeStateAsUpdate(doc), text: doc.getText('text').toString() }
  doc.destroy()
  return result
}
