import type * as Y from 'yjs'
import type { ColdDoc } from './cold-doc.js'
import type { DocPresence } from './doc-presence.js'

/**
 * cold (known, no Y.Doc; a relay serving it cold keeps its encoded state and presence in
 * `served`, cold-doc.ts) -> loading (hydrating: `served` lives on until the Y.Doc is
 * built) -> warm (the Y.Doc in memory) -> destroyed (dropped from the replica; while it is
 * torn down its sessions still see the doc).
 */
export type DocState =
  | { kind: 'cold'; served?: ColdDoc }
  | { kind: 'loading'; loading: Promise<Y.Doc>; served?: ColdDoc | undefined }
  | { kind: 'warm'; doc: Y.Doc; awareness: DocPresence }
  | { kind: 'destroyed'; doc?: Y.Doc | undefined; awareness?: DocPresence | undefined }
