import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'

/**
 * cold (known, answered from the store) -> loading -> warm (the Y.Doc in memory) ->
 * destroyed (dropped from the replica; while it is torn down its sessions still see the doc).
 */
export type DocState =
  | { kind: 'cold' }
  | { kind: 'loading'; loading: Promise<Y.Doc> }
  | { kind: 'warm'; doc: Y.Doc; awareness: Awareness }
  | { kind: 'destroyed'; doc?: Y.Doc | undefined; awareness?: Awareness | undefined }
