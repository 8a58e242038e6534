import { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { AwarenessPresence } from './awareness-presence.js'
import type { DocPresence, PresenceListener } from './doc-presence.js'
import { ConvergeError } from './errors.js'
import type { PresenceSweep } from './presence-sweep.js'
import { PresenceTable } from './presence-table.js'
import type { RolePolicy } from './role-policy.js'

/**
 * A document's presence, the one place that chooses its kind (doc-presence.ts): a replica
 * with presence of its own (a client) gets y-protocols' Awareness on its Y.Doc, for the app
 * to set its state on; a relay, which has none, a PresenceTable swept by `sweep`.
 */
export const newPresence = (
  policy: RolePolicy,
  sweep: PresenceSweep,
  listener: PresenceListener,
  doc: Y.Doc | undefined,
): DocPresence => {
  if (!policy.hasOwnPresence) return new PresenceTable(sweep, listener)
  // Only relays serve documents cold (ReplicaOptions.coldDocs): a client's presence comes with its Y.Doc.
  if (doc === undefined)
    throw new ConvergeError('CONVERGE_INTERNAL', 'a client document has no presence before its Y.Doc')
  const presence = new AwarenessPresence(new Awareness(doc))
  presence.onUpdate(listener)
  return presence
}
